"""A provider's unstorable error text on a SQL store: the job still fails and its money is released once.

A NUL character (PostgreSQL refuses it in text) or a lone surrogate (JSON's ``\\ud800``: neither SQLite nor
PostgreSQL can encode it) in a failure's code or message reached the store after the reservation was
released: the save raised, the job stayed open and every poll was a 500. The real parsers read each
reply here; ``jobs.Transition`` keeps the text storable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PgDatabases

from vidgate.gateway.service import CreateVideo
from vidgate.providers._ark_wire.flows import parse_task
from vidgate.providers._openai_wire.flows import error_from_reply, parse_video
from vidgate.providers.base import HttpReply

from .harness import T0
from .scripted import REPLICATE, SEEDANCE, scripted_gateway

# JSON text as a provider sends it: the escapes decode to NUL and to a lone surrogate.
DIRTY = r"bad\u0000 \ud800text"


def _openai_failed(native_id: str) -> Any:
    body = '{"id":"%s","object":"video","status":"failed","error":{"code":"x\\u0000y","message":"%s"}}'
    return parse_video(json.loads(body % (native_id, DIRTY)))


def _ark_failed(native_id: str) -> Any:
    body = '{"id":"%s","model":"dreamina-seedance-2-0-260128","status":"failed","error":{"message":"%s"}}'
    return parse_task("byteplus", json.loads(body % (native_id, DIRTY)))


def _openai_lost(native_id: str) -> Any:
    body = ('{"error":{"message":"' + DIRTY + '","code":"not_found"}}').encode()
    raise error_from_reply(HttpReply(404, {}, body), "replicate")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'v.db'}"
    server: str = request.getfixturevalue("postgres_url")
    databases: PgDatabases = request.getfixturevalue("pg_databases")
    return await databases.create(server)


@pytest.mark.parametrize(
    ("entry", "create", "reply", "error"),
    [
        (REPLICATE, {"seconds": "4"}, _openai_failed, ("xy", "bad ?text")),
        (SEEDANCE, {"seconds": "5", "size": "1280x720"}, _ark_failed, ("generation_failed", "bad ?text")),
        (
            REPLICATE,
            {"seconds": "4"},
            _openai_lost,
            ("not_found", "The provider no longer knows this video: bad ?text"),
        ),
    ],
    ids=["openai-failed", "ark-failed", "lost-404"],
)
async def test_a_provider_failing_with_unstorable_text_is_failed_and_released(
    database_url: str,
    tmp_path: Path,
    entry: dict[str, Any],
    create: dict[str, str],
    reply: Any,
    error: tuple[str, str],
) -> None:
    async with scripted_gateway(database_url, tmp_path, entry, reply) as gw:
        request = CreateVideo(model="m", prompt="a fox", seconds=create["seconds"], size=create.get("size"))
        video = await gw.service.create_video(gw.caller, request)
        for minutes in (1, 2, 3, 60):  # a 404 fails the job at the third in a row
            gw.clock.now = T0 + minutes * 60
            await gw.service.get_video(gw.caller, video.id)
        job, key = await gw.stored(video.id)
        assert (job.status, job.cost_micros, job.error_code, job.error_message) == ("failed", 0, *error)
        assert (key.total_spend_micros, key.reserved_micros) == (0, 0)
