"""What the routes need, built once by the lifespan and hung on ``app.state.vidgate``."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from vidgate.errors import BadRequestError
from vidgate.gateway.auth import Principal
from vidgate.gateway.config import GatewayConfig
from vidgate.gateway.ports import Stores
from vidgate.gateway.service import GatewayService
from vidgate.inputs import check_text
from vidgate.server.auth import secret_from
from vidgate.server.cache import FinishedVideos
from vidgate.server.logs import LogContext, log_context
from vidgate.server.metrics import Metrics
from vidgate.worker.poller import Poller


@dataclass
class ServerState:
    config: GatewayConfig
    service: GatewayService
    stores: Stores
    metrics: Metrics
    finished: FinishedVideos
    poller: Poller | None = None  # None when this replica leaves polling to others (run_worker=False)


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.vidgate
    return state


def request_log(request: Request) -> LogContext:
    return log_context(request.scope.setdefault("state", {}))


def check_params(request: Request) -> None:
    """Path and query values a handler may store or look up: storable text, or a 400 naming them. Every
    query parameter the gateway reads takes one value: a repeated one (``?limit=5&limit=6``) is a 400,
    never the last value taken silently."""
    for name, value in request.path_params.items():
        if isinstance(value, str):
            check_text(value, name)
    if not request.scope.get("query_string"):  # most calls: no query to parse
        return
    seen: set[str] = set()
    for name, value in request.query_params.multi_items():
        check_text(name, name)
        check_text(value, name)
        if name in seen:
            raise BadRequestError(
                f"Invalid '{name[:60]}': given more than once; give it once.",
                param=name[:255],
                code="duplicate_parameter",
            )
        seen.add(name)


async def caller(request: Request) -> Principal:
    """The authenticated caller (the auth dependency every protected route takes)."""
    return await authenticated(request, secret_from(request.headers))


async def authenticated(request: Request, secret: str | None) -> Principal:
    """The principal for ``secret`` however the route read it, recorded in the request's log line."""
    check_params(request)
    principal = await server_state(request).service.authenticate(secret)
    ctx = request_log(request)
    if principal.key is not None:
        ctx.key_alias = principal.key.alias
        ctx.key_id = principal.key.id
    else:
        ctx.key_alias = "master"
    return principal
