"""JSON column text: orjson where it can, the stdlib where it cannot, each reading the other's text."""

from __future__ import annotations

import json
from pathlib import Path

from tests.store.factories import make_job

from vidgate.store.factory import open_stores
from vidgate.store.sql.json_codec import json_text, json_value


def test_orjson_writes_compact_text() -> None:
    assert json_text({"a": [1, 2.5, None, "é"]}) == '{"a":[1,2.5,null,"é"]}'


def test_what_orjson_cannot_write_is_written_by_the_stdlib() -> None:
    assert json_text({"big": 2**70}) == '{"big": 1180591620717411303424}'
    assert json_text({1: "integer key"}) == '{"1": "integer key"}'


def test_text_the_stdlib_wrote_is_read() -> None:
    assert json_value(json.dumps({"a": 1, "b": [True]})) == {"a": 1, "b": [True]}
    assert json_value('{"big": 1180591620717411303424}') == {"big": 2**70}
    value = json_value('{"x": NaN}')["x"]
    assert value != value  # NaN


async def test_a_payload_with_a_big_integer_round_trips_through_sqlite(tmp_path: Path) -> None:
    stores = await open_stores(f"sqlite:///{tmp_path / 'vidgate.db'}", None, tmp_path / "content")
    try:
        job = make_job("video_big", native_payload={"seed": 2**70, "name": "ß"})
        await stores.jobs.insert(job)
        assert await stores.jobs.get(job.id) == job
    finally:
        await stores.close()
