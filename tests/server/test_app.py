"""The app's start-up: a database it cannot open stops it with a message naming the setting."""

from __future__ import annotations

import pytest

from vidgate.gateway.config import parse_config
from vidgate.server.app import StartupError, create_app


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
