"""The app's start-up: a database it cannot open stops it with a message naming the setting; the
middleware stack begins with the request log (no Starlette error layer doing its work again)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from vidgate.gateway.config import parse_config
from vidgate.server.app import GatewayApp, StartupError, create_app
from vidgate.server.logs import RequestLogMiddleware


async def test_an_unreachable_database_stops_startup_naming_the_setting() -> None:
    url = "postgresql+asyncpg://vidgate:hunter2-secret@127.0.0.1:1/vidgate"
    config = parse_config(
        {"general_settings": {"master_key": "sk-startup-master", "database_url": url}}, environ={}
    )
    app = create_app(config, run_worker=False)
    with pytest.raises(StartupError) as raised:
        async with app.router.lifespan_context(app):
            pass
    message = str(raised.value)
    assert message.startswith("general_settings.database_url: cannot open postgresql+asyncpg://127.0.0.1:1/")
    assert "hunter2-secret" not in message


def test_the_request_log_is_the_outermost_layer() -> None:
    config = parse_config({"general_settings": {"master_key": "sk-stack-master"}}, environ={})
    app = create_app(config, run_worker=False)
    assert isinstance(app.build_middleware_stack(), RequestLogMiddleware)


def test_an_app_whose_error_layer_would_act_is_refused() -> None:
    async def handler(request: Request, exc: Exception) -> Any:
        return PlainTextResponse("custom", status_code=500)

    with pytest.raises(TypeError, match="ServerErrorMiddleware"):
        GatewayApp(exception_handlers={500: handler}).build_middleware_stack()
    with pytest.raises(TypeError, match="ServerErrorMiddleware"):
        GatewayApp(debug=True).build_middleware_stack()
