"""The gateway's ASGI app: ``create_app(config)``; the lifespan opens the stores, builds the gateway
service, starts the background poller, and closes everything in reverse on shutdown.

Routes live in ``server/routes/`` (each also served without the ``/v1`` prefix, as the seed documents'
clients call them); every error is rendered by ``server/errors.py``; one middleware logs, counts and
tags each request with an id.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.routing import Route

from vidgate import settings
from vidgate.gateway.config import GatewayConfig, default_config, load_config
from vidgate.gateway.ports import Stores
from vidgate.gateway.service import GatewayService
from vidgate.server.errors import install_error_handlers
from vidgate.server.logs import RequestLogMiddleware
from vidgate.server.metrics import Metrics
from vidgate.server.routes import admin, health, legacy, metrics, models, videos
from vidgate.server.state import ServerState
from vidgate.store.factory import open_stores
from vidgate.transport import AsyncRunner
from vidgate.worker.poller import Poller

MAX_BODY_BYTES = 64 * 1024 * 1024  # a create with a 20 MiB image as base64 JSON fits; nothing larger is read


def create_app(
    config: GatewayConfig,
    *,
    stores: Stores | None = None,
    runner: AsyncRunner | None = None,
    run_worker: bool = True,
) -> FastAPI:
    """The gateway app. ``stores``/``runner`` given by the caller are used as they are and not closed
    (tests pass in-memory stores); otherwise they are opened from the config and closed on shutdown.
    ``run_worker=False`` leaves jobs to other replicas' pollers (and to refresh-on-read)."""
    metrics_registry = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_stores = stores is None
        opened = stores or await open_stores(config.database_url, config.redis_url, Path(config.content_dir))
        own_runner = runner is None
        active_runner = runner or AsyncRunner()
        poller: Poller | None = None
        try:
            service = GatewayService(config, opened, active_runner)
            app.state.vidgate = ServerState(
                config=config, service=service, stores=opened, metrics=metrics_registry
            )
            if run_worker:
                poller = Poller(service)
                await poller.start()
            yield
        finally:
            if poller is not None:
                await poller.stop()
            if own_runner:
                await active_runner.aclose()
            if own_stores:
                await opened.close()

    app = FastAPI(
        title="vidgate",
        summary="One OpenAI-style Videos API over every video-generation model.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        max_body_size=MAX_BODY_BYTES,
    )
    install_error_handlers(app)
    app.add_middleware(RequestLogMiddleware, metrics=metrics_registry, full_logging=config.request_logging)
    # Plain Starlette routes: the handlers parse their own input (forms, ranges, OpenAI's error wording),
    # so FastAPI's per-request dependency solving would only add latency to every status poll.
    table: list[Route] = []
    for prefix in ("/v1", ""):
        table += [_prefixed(r, prefix) for r in (*videos.routes(), *models.routes(), *legacy.routes())]
    table += [*admin.routes(), *health.routes(), *metrics.routes()]
    app.router.routes.extend(table)
    return app


def _prefixed(route: Route, prefix: str) -> Route:
    methods = sorted(route.methods - {"HEAD"}) if route.methods else None
    return Route(
        prefix + route.path, route.endpoint, methods=methods, name=f"{prefix}{route.path}:{route.name}"
    )


def app_from_env() -> FastAPI:
    """The app ``vidgate serve`` runs (by import string, in each worker process): the config file named
    by ``VIDGATE_CONFIG``, or the default config with the master key in ``VIDGATE_MASTER_KEY``."""
    path = os.environ.get(settings.CONFIG_FILE)
    master_key = os.environ.get(settings.MASTER_KEY) or None
    if not path:
        return create_app(default_config(master_key=master_key))
    config = load_config(path)
    if config.master_key is None and master_key is not None:
        config = config.model_copy(update={"master_key": master_key})
    return create_app(config)
