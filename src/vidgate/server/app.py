"""The gateway's ASGI app: ``create_app(config)``; the lifespan opens the stores, builds the gateway
service, starts the background poller, and closes everything in reverse on shutdown.

Routes live in ``server/routes/`` (the OpenAI ones also without the ``/v1`` prefix, as the seed
documents' clients call them); every error is rendered by ``server/errors.py``; one middleware logs,
counts, bounds the body of, and tags each request with an id (and, with tracing on, its server span).
The lifespan also starts what the config's callbacks ask for (``server/tracing.py``,
``server/callbacks.py``) and subscribes them and the metrics to the gateway's observer.

The app is a plain Starlette app rather than FastAPI: every handler parses its own input (forms,
ranges, OpenAI's error wording), so FastAPI's routing and per-request dependency solving would only
add to each status poll (measured: ~25 us/request for FastAPI's router, ~100 us for APIRoute).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp, Scope

from vidgate import settings
from vidgate.gateway.config import GatewayConfig, default_config, load_config
from vidgate.gateway.ports import Stores
from vidgate.gateway.service import GatewayService
from vidgate.server import ui
from vidgate.server.cache import FinishedVideos
from vidgate.server.callbacks import HttpLogCallback
from vidgate.server.endpoint import Endpoint, mount
from vidgate.server.errors import EXCEPTION_HANDLERS
from vidgate.server.express import Express
from vidgate.server.heap import freeze_startup_heap
from vidgate.server.logs import (
    REDACTED_LOGGERS,
    RequestLogMiddleware,
    install_query_redaction,
    lean_log_records,
)
from vidgate.server.metrics import Metrics
from vidgate.server.router import IndexedRouter
from vidgate.server.routes import (
    admin,
    docs,
    gemini,
    health,
    legacy,
    metrics,
    models,
    provider_callbacks,
    root,
    vertex,
    video_edits,
    videos,
)
from vidgate.server.state import ServerState
from vidgate.server.tracing import TraceIdFilter, start_tracing, stop_tracing
from vidgate.store.factory import open_stores
from vidgate.transport import AsyncRunner
from vidgate.transport.http1_sender import Http1Sender
from vidgate.worker.poller import Poller

MAX_BODY_BYTES = 64 * 1024 * 1024  # a create with a 20 MiB image as base64 JSON fits; nothing larger is read


class StartupError(Exception):
    """The gateway cannot start with this config; the message names the setting (as config errors do)."""


async def _open_stores(config: GatewayConfig) -> Stores:
    """The config's stores, or a StartupError naming the setting (a refused connection, a bad file...)."""
    try:
        return await open_stores(config.database_url, config.redis_url, Path(config.content_dir))
    except Exception as exc:
        is_redis = type(exc).__module__.startswith("redis")
        setting, url = (
            ("redis_url", config.redis_url or "") if is_redis else ("database_url", config.database_url)
        )
        raise StartupError(
            f"general_settings.{setting}: cannot open {_without_password(url)}: {exc}"
        ) from exc


def _without_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = authority.rsplit("@", 1)[1]
    return f"{scheme}{sep}{authority}{slash}{path}"


def create_app(
    config: GatewayConfig,
    *,
    stores: Stores | None = None,
    runner: AsyncRunner | None = None,
    run_worker: bool = True,
    max_body_bytes: int = MAX_BODY_BYTES,
    freeze_heap: bool = False,
) -> Starlette:
    """The gateway app. ``stores``/``runner`` given by the caller are used as they are and not closed
    (tests pass in-memory stores); otherwise they are opened from the config and closed on shutdown.
    ``run_worker=False`` leaves jobs to other replicas' pollers (and to refresh-on-read). A request
    body over ``max_body_bytes`` is refused with 413 before it is read; one whose next bytes do not come
    within ``general_settings.request_body_timeout`` seconds is answered 408. ``freeze_heap``: the process
    is the server's, so what start-up built is frozen out of garbage collection (``server/heap.py``)."""
    registry = Metrics()
    install_query_redaction()  # uvicorn's access line and httpx's request lines: no ?key= in a log
    observability = config.observability
    if observability.otel_endpoint is not None:
        _install_trace_ids()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own_stores = stores is None
        opened = stores or await _open_stores(config)
        own_runner = runner is None
        active_runner = runner or AsyncRunner(sender=Http1Sender())
        poller: Poller | None = None
        tracer = start_tracing(observability.otel_endpoint) if observability.otel_endpoint else None
        callbacks = [HttpLogCallback(settings) for settings in observability.http_loggers]
        service: GatewayService | None = None
        try:
            service = GatewayService(config, opened, active_runner)
            service.on_upstream_error = registry.count_upstream_error  # polls' errors reach no handler
            service.keeper.on_outcome_unknown = registry.count_outcome_unknown
            service.observers.add(registry)
            for callback in callbacks:
                service.observers.add(callback)
                callback.start()
            app.state.vidgate = ServerState(
                config=config, service=service, stores=opened, metrics=registry, finished=FinishedVideos()
            )
            if run_worker:
                poller = Poller(service)
                service.callbacks.on_applied = poller.wake  # copy the content now, not next round
                poller.start()
                app.state.vidgate.poller = poller
            if freeze_heap:
                freeze_startup_heap()
            yield
        finally:
            if poller is not None:
                await poller.stop()
            for callback in callbacks:
                await callback.stop()
            if service is not None:
                await service.guardrails.aclose()
            if tracer is not None:
                stop_tracing(tracer)
            if own_runner:
                await active_runner.aclose()
            if own_stores:
                await opened.close()

    api = mounted_endpoints()
    routes = mount(api)
    middleware = [
        Middleware(
            RequestLogMiddleware,
            metrics=registry,
            full_logging=config.request_logging,
            max_body_bytes=max_body_bytes,
            body_timeout=config.request_body_timeout,
            express=Express([*videos.express_lanes(), *gemini.express_lanes()], routes).answer,
        )
    ]
    app = GatewayApp(
        routes=routes, middleware=middleware, exception_handlers=EXCEPTION_HANDLERS, lifespan=lifespan
    )
    app.router = IndexedRouter(routes, lifespan=lifespan)  # same matching, only candidate routes tried
    return app


class GatewayApp(Starlette):
    """Starlette without its outermost ``ServerErrorMiddleware``. ``RequestLogMiddleware``, the first
    middleware, answers every unhandled error with the API's own 500 envelope, so that layer never
    acted; it still wrapped every request and every message sent: a cached status poll took 70-73 µs
    of CPU with it, 60-63 without (3 alternating runs of 16 connections). An error raised by the log
    middleware itself reaches uvicorn, which answers a plain 500 as ``ServerErrorMiddleware`` did."""

    def answer_now(self, scope: Scope) -> tuple[list[tuple[bytes, bytes]], bytes] | None:
        """``RequestLogMiddleware.answer_now`` for a request of this app (None until it has started)."""
        stack = self.middleware_stack
        if not isinstance(stack, RequestLogMiddleware):
            return None
        scope["app"] = self
        return stack.answer_now(scope)

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        if not isinstance(stack, ServerErrorMiddleware) or stack.handler is not None or stack.debug:
            raise TypeError("GatewayApp drops only a ServerErrorMiddleware with no handler, out of debug")
        return stack.app


def _install_trace_ids() -> None:
    """Attach one ``TraceIdFilter`` to each logger the gateway writes through (idempotent)."""
    for name in REDACTED_LOGGERS:
        target = logging.getLogger(name)
        if not any(isinstance(f, TraceIdFilter) for f in target.filters):
            target.addFilter(TraceIdFilter())


def mounted_endpoints() -> list[Endpoint]:
    """Every route of the gateway, described (``server/endpoint.py``): the app mounts exactly these and
    ``/openapi.json`` documents exactly these."""
    api: list[Endpoint] = []
    for prefix in ("/v1", ""):  # the OpenAI routes also without /v1, as the seed documents' clients call them
        api += [
            e.at(prefix)
            for e in (*video_edits.endpoints(), *videos.endpoints(), *models.endpoints(), *legacy.endpoints())
        ]
    api += [*root.endpoints(), *docs.endpoints(lambda: api), *admin.endpoints(), *health.endpoints()]
    api += [*metrics.endpoints(), *provider_callbacks.endpoints()]
    api += [*gemini.endpoints(), *vertex.endpoints()]  # Google-native pass-through (Google's error envelope)
    api += ui.endpoints()  # the dashboard at /ui: pages, its static files and signed media links
    return api


def app_from_env() -> Starlette:
    """The app ``vidgate serve`` runs (by import string, in each worker process): the config file named
    by ``VIDGATE_CONFIG``, or the default config, with the master key in ``VIDGATE_MASTER_KEY`` when the
    config gives none."""
    lean_log_records()  # this process is the server: its log lines show no thread, process or caller
    path = os.environ.get(settings.CONFIG_FILE)
    master_key = os.environ.get(settings.MASTER_KEY) or None
    if not path:
        return create_app(default_config(master_key=master_key), freeze_heap=True)
    config = load_config(path)
    if config.master_key is None and master_key is not None:
        config = config.model_copy(update={"master_key": master_key})
    return create_app(config, freeze_heap=True)
