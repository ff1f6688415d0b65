"""server/state.check_params: what every authenticated route checks of its path and query first."""

from __future__ import annotations

import pytest
from tests.server.conftest import MASTER, Served, auth


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("limit=5&limit=6", "limit"),
        ("after=a&after=b", "after"),
        ("order=asc&order=asc", "order"),  # the same value twice too: one value is taken, never a choice
        ("order=asc&limit=2&order=desc", "order"),
    ],
)
async def test_a_repeated_query_parameter_is_a_400_naming_it(served: Served, query: str, param: str) -> None:
    """The last value was taken silently (``?limit=5&limit=6`` listed 6)."""
    key = await served.new_key()
    reply = await served.client.get(f"/v1/videos?{query}", headers=auth(key))
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"] == {
        "message": f"Invalid '{param}': given more than once; give it once.",
        "type": "invalid_request_error",
        "param": param,
        "code": "duplicate_parameter",
    }


async def test_every_route_s_query_is_checked_in_its_own_envelope(served: Served) -> None:
    info = await served.client.get("/key/info?key=a&key=b", headers=auth(MASTER))
    assert (info.status_code, info.json()["error"]["param"]) == (400, "key")
    key = await served.new_key()
    google = await served.client.get(
        "/gemini/v1beta/files/abc:download?alt=media&alt=media", headers={"x-goog-api-key": key}
    )
    assert google.status_code == 400, google.text
    error = google.json()["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    assert "'alt': given more than once" in error["message"]


async def test_distinct_parameters_once_each_are_read(served: Served) -> None:
    key = await served.new_key()
    reply = await served.client.get("/v1/videos?limit=2&order=asc", headers=auth(key))
    assert reply.status_code == 200, reply.text
