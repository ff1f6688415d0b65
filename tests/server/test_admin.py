"""Key administration and spend logs in LiteLLM's shapes; master key only."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from tests.server.conftest import MASTER, PRICE_PER_SECOND, Served, auth


async def test_generate_returns_the_secret_once_and_the_limits(served: Served) -> None:
    reply = await served.client.post(
        "/key/generate",
        json={
            "models": ["local-1"],
            "max_budget": 12.5,
            "budget_duration": "30d",
            "rpm_limit": 60,
            "max_parallel_requests": 3,
            "key_alias": "team-a",
            "metadata": {"team": "ads"},
        },
        headers=auth(MASTER),
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["key"].startswith("sk-")
    assert body["key_alias"] == "team-a"
    assert body["models"] == ["local-1"]
    assert body["max_budget"] == 12.5
    assert body["budget_duration"] == "30d"
    assert body["budget_reset_at"] is not None
    assert body["rpm_limit"] == 60
    assert body["max_parallel_requests"] == 3
    assert body["metadata"] == {"team": "ads"}
    assert body["spend"] == 0
    stored = await served.stores.keys.get(body["token"])
    assert stored is not None
    assert body["key"] not in repr(stored)

    info = await served.client.get("/key/info", params={"key": body["key"]}, headers=auth(MASTER))
    assert info.status_code == 200
    assert info.json()["info"]["key_alias"] == "team-a"
    assert "key" not in info.json()["info"] or info.json()["info"].get("key") != body["key"]
    listed = await served.client.get("/key/list", headers=auth(MASTER))
    assert listed.json() == {"keys": [body["token"]], "total_count": 1, "current_page": 1, "total_pages": 1}
    full = await served.client.get("/key/list", params={"return_full_object": "true"}, headers=auth(MASTER))
    assert [k["key_alias"] for k in full.json()["keys"]] == ["team-a"]
    assert body["key"] not in listed.text + full.text


async def test_update_and_delete(served: Served) -> None:
    key = await served.new_key(key_alias="before")
    updated = await served.client.post(
        "/key/update", json={"key": key, "key_alias": "after", "rpm_limit": 5}, headers=auth(MASTER)
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["key_alias"] == "after"
    assert updated.json()["rpm_limit"] == 5
    deleted = await served.client.post("/key/delete", json={"keys": [key]}, headers=auth(MASTER))
    assert deleted.json() == {"deleted_keys": [key]}
    info = await served.client.get("/key/info", params={"key": key}, headers=auth(MASTER))
    assert info.status_code == 404


async def test_admin_is_master_only_and_validates_fields(served: Served) -> None:
    key = await served.new_key()
    for method, path, body in [
        ("POST", "/key/generate", {}),
        ("GET", "/key/list", None),
        ("POST", "/key/update", {"key": key, "rpm_limit": 1}),
        ("POST", "/key/delete", {"keys": [key]}),
        ("GET", "/spend/logs", None),
    ]:
        reply = await served.client.request(method, path, json=body, headers=auth(key))
        assert reply.status_code == 403, path
        assert reply.json()["error"]["type"] == "permission_denied"
    own = await served.client.get("/key/info", headers=auth(key))
    assert own.status_code == 200  # a key may read its own info
    unknown = await served.client.post("/key/generate", json={"duration": "1h"}, headers=auth(MASTER))
    assert unknown.status_code == 400
    assert unknown.json()["error"]["param"] == "duration"
    bad = await served.client.post("/key/generate", json={"max_budget": "lots"}, headers=auth(MASTER))
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "max_budget"
    empty = await served.client.post("/key/delete", json={"keys": []}, headers=auth(MASTER))
    assert empty.status_code == 400
    assert empty.json()["error"]["param"] == "keys"
    nokey = await served.client.post("/key/update", json={"rpm_limit": 1}, headers=auth(MASTER))
    assert nokey.status_code == 400
    assert nokey.json()["error"]["param"] == "key"


async def test_spend_logs_of_a_deleted_key_stay_readable_by_its_id(served: Served) -> None:
    """Spend logs are history: deleting a key must not hide what it spent (filtering by its id)."""
    key = await served.new_key()
    video = await served.create(key)
    await served.wait_done(key, video["id"])
    info = await served.client.get("/key/info", params={"key": key}, headers=auth(MASTER))
    key_id = info.json()["key"]
    deleted = await served.client.post("/key/delete", json={"keys": [key]}, headers=auth(MASTER))
    assert deleted.status_code == 200
    logs = await served.client.get("/spend/logs", params={"api_key": key_id}, headers=auth(MASTER))
    assert logs.status_code == 200, logs.text
    assert [e["request_id"] for e in logs.json()] == [video["id"]]
    never = await served.client.get("/spend/logs", params={"api_key": "key_000000"}, headers=auth(MASTER))
    assert (never.status_code, never.json()) == (200, [])


async def test_spend_logs_record_each_finished_job_once(served: Served) -> None:
    key = await served.new_key(key_alias="payer")
    video = await served.create(key)
    failed = await served.create(key, "doomed [fault:fail]")
    await served.wait_done(key, video["id"])
    assert (await served.wait_done(key, failed["id"]))["status"] == "failed"
    logs = await served.client.get("/spend/logs", params={"api_key": key}, headers=auth(MASTER))
    assert logs.status_code == 200, logs.text
    entries = logs.json()
    assert [e["request_id"] for e in entries] == [video["id"]]
    assert entries[0]["spend"] == PRICE_PER_SECOND
    assert entries[0]["model"] == "local-1"
    info = await served.client.get("/key/info", params={"key": key}, headers=auth(MASTER))
    assert info.json()["info"]["spend"] == PRICE_PER_SECOND
    assert info.json()["info"]["reserved"] == 0
    dated = await served.client.get(
        "/spend/logs",
        params={"api_key": key, "start_date": "2000-01-01", "end_date": "2000-01-02"},
        headers=auth(MASTER),
    )
    assert dated.json() == []
    bad_date = await served.client.get(
        "/spend/logs", params={"start_date": "yesterday"}, headers=auth(MASTER)
    )
    assert bad_date.status_code == 400
    assert bad_date.json()["error"]["param"] == "start_date"
    for limit in ("0", "10001", "18446744073709551616"):  # 2**64 was refused with int64's range
        bad_limit = await served.client.get("/spend/logs", params={"limit": limit}, headers=auth(MASTER))
        assert bad_limit.json()["error"]["message"] == (
            f"Invalid 'limit': expected an integer from 1 to 10000, got '{limit}'."
        )
    # LiteLLM's filters vidgate does not have: a 400 naming them, never every entry unfiltered
    for name in ("request_id", "user_id", "model"):
        unknown = await served.client.get("/spend/logs", params={name: "x"}, headers=auth(MASTER))
        assert unknown.status_code == 400
        error = unknown.json()["error"]
        assert (error["param"], error["code"]) == (name, "unknown_parameter")
        assert "api_key, key, start_date, end_date, limit" in error["message"]


async def test_changing_budget_duration_starts_a_new_period_and_clearing_it_ends_resets(
    served: Served,
) -> None:
    key = await served.new_key(max_budget=5, budget_duration="30d")
    before = (await served.client.get("/key/info", params={"key": key}, headers=auth(MASTER))).json()
    first_reset = before["info"]["budget_reset_at"]
    shorter = await served.client.post(
        "/key/update", json={"key": key, "budget_duration": "1h"}, headers=auth(MASTER)
    )
    assert shorter.status_code == 200, shorter.text
    assert shorter.json()["budget_duration"] == "1h"
    assert first_reset - 30 * 86400 <= shorter.json()["budget_reset_at"] <= first_reset - 29 * 86400
    unchanged = await served.client.post(
        "/key/update", json={"key": key, "key_alias": "renamed"}, headers=auth(MASTER)
    )
    assert unchanged.json()["budget_reset_at"] == shorter.json()["budget_reset_at"]
    cleared = await served.client.post(
        "/key/update", json={"key": key, "budget_duration": None}, headers=auth(MASTER)
    )
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["budget_duration"], cleared.json()["budget_reset_at"]) == (None, None)


@pytest.mark.parametrize(
    ("path", "name", "takes"),
    [
        ("/key/info", "key_alias", "takes key"),
        ("/key/info", "include_spend", "takes key"),
        ("/admin/deployments", "model", "takes no query parameters"),
        ("/spend/logs", "request_id", "takes api_key, key, start_date, end_date, limit"),
    ],
)
async def test_admin_reads_refuse_a_query_parameter_they_do_not_take(
    served: Served, path: str, name: str, takes: str
) -> None:
    """/key/info and /admin/deployments ignored them: an answer that looked filtered and was not."""
    key = await served.new_key(key_alias="mine")
    params = {"key": key, name: "x"} if path == "/key/info" else {name: "x"}
    reply = await served.client.get(path, params=params, headers=auth(MASTER))
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"] == {
        "message": f"Unknown parameter: '{name}'. GET {path} {takes}.",
        "type": "invalid_request_error",
        "param": name,
        "code": "unknown_parameter",
    }
    own = await served.client.get("/key/info", params={"key": key}, headers=auth(key))
    assert own.status_code == 200  # what LiteLLM's clients send (the key, or nothing) still reads


async def _list(served: Served, **params: str) -> dict[str, Any]:
    reply = await served.client.get("/key/list", params=params, headers=auth(MASTER))
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


async def test_key_list_pages_as_litellm_does(served: Served) -> None:
    """Every key came back at once, page and size ignored."""
    made = []
    for i in range(12):
        reply = await served.client.post("/key/generate", json={"key_alias": f"k{i}"}, headers=auth(MASTER))
        made.append(reply.json()["token"])
    first = await _list(served)  # LiteLLM's defaults: page 1 of 10
    assert (len(first["keys"]), first["total_count"], first["current_page"], first["total_pages"]) == (
        10,
        12,
        1,
        2,
    )
    second = await _list(served, page="2")
    assert (len(second["keys"]), second["current_page"], second["total_pages"]) == (2, 2, 2)
    assert sorted(first["keys"] + second["keys"]) == sorted(made)  # every key once, no page overlapping
    assert await _list(served, page="3") == {
        "keys": [],
        "total_count": 12,
        "current_page": 3,
        "total_pages": 2,
    }
    fives = [await _list(served, page=str(page), size="5") for page in (1, 2, 3)]
    assert [len(p["keys"]) for p in fives] == [5, 5, 2]
    assert [k for p in fives for k in p["keys"]] == first["keys"] + second["keys"]  # one order throughout
    assert len((await _list(served, size="100"))["keys"]) == 12


@pytest.mark.parametrize(
    ("params", "param", "message"),
    [
        ({"page": "0"}, "page", "Invalid 'page': expected an integer from 1 to 2147483647, got '0'."),
        ({"page": ""}, "page", "Invalid 'page': expected an integer from 1 to 2147483647, got ''."),
        ({"size": "0"}, "size", "Invalid 'size': expected an integer from 1 to 100, got '0'."),
        ({"size": "101"}, "size", "Invalid 'size': expected an integer from 1 to 100, got '101'."),
        ({"size": "ten"}, "size", "Invalid 'size': expected an integer from 1 to 100, got 'ten'."),
        (
            {"return_full_object": "maybe"},
            "return_full_object",
            "Invalid 'return_full_object': expected a boolean, true or false (also 1/0, yes/no, on/off); "
            "got 'maybe'.",
        ),
        (
            {"status": "deleted"},
            "status",
            "Invalid 'status': vidgate keeps no deleted keys (their spend stays in /spend/logs). "
            "Supported values are: 'active', 'expired', and 'revoked'.",
        ),
        (
            {"status": "blocked"},
            "status",
            "Invalid value: 'blocked'. Supported values are: 'active', 'expired', and 'revoked'.",
        ),
        (
            {"expires": "soon"},
            "expires",
            "Invalid value: 'soon'. Supported values are: 'active' and 'expired'.",
        ),
        (
            {"sort_by": "updated_at"},
            "sort_by",
            "Invalid value: 'updated_at'. Supported values are: 'created_at', 'token', 'key_alias', 'spend', "
            "'total_spend', 'max_budget', 'budget_reset_at', and 'rpm_limit'.",
        ),
        ({"sort_order": "up"}, "sort_order", "Invalid value: 'up'. Supported values are: 'asc' and 'desc'."),
        ({"expand": "team"}, "expand", "Invalid value: 'team'. Supported values are: 'user'."),
        (
            {"team_id": "t1"},
            "team_id",
            "Invalid 'team_id': vidgate's keys belong to no user, team, organization, project, access group "
            "or agent; leave 'team_id' out.",
        ),
        (
            {"key_name": "x"},
            "key_name",
            "Unknown parameter: 'key_name'. GET /key/list takes page, size, "
            "return_full_object, expand, key_alias, substring_matching, key_hash, search, status, expires, "
            "sort_by, sort_order, include_team_keys, include_created_by_keys, user_id, team_id, "
            "organization_id, project_id, access_group_id, agent_id.",
        ),
    ],
)
async def test_key_list_refuses_what_it_cannot_answer_naming_the_param(
    served: Served, params: dict[str, str], param: str, message: str
) -> None:
    reply = await served.client.get("/key/list", params=params, headers=auth(MASTER))
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert (error["param"], error["message"]) == (param, message)


async def test_key_list_filters_and_sorts(served: Served) -> None:
    tokens = {}
    for alias in ("b-video", "a-ads", "c-ops"):
        reply = await served.client.post("/key/generate", json={"key_alias": alias}, headers=auth(MASTER))
        tokens[alias] = reply.json()["token"]
        if alias == "c-ops":
            secret = reply.json()["key"]
    blocked = await served.client.post(
        "/key/update", json={"key": tokens["c-ops"], "blocked": True}, headers=auth(MASTER)
    )
    assert blocked.status_code == 200

    async def aliases(**params: str) -> list[str]:
        body = await _list(
            served, **{"return_full_object": "true", "sort_by": "key_alias", "sort_order": "asc", **params}
        )
        assert body["total_count"] == len(body["keys"])
        return [k["key_alias"] for k in body["keys"]]

    assert await aliases() == ["a-ads", "b-video", "c-ops"]
    assert await aliases(sort_order="DESC") == ["c-ops", "b-video", "a-ads"]  # any case, as LiteLLM
    assert await aliases(key_alias="a-ads") == ["a-ads"]
    assert await aliases(key_alias="A-ADS") == []  # exact unless substring_matching
    assert await aliases(key_alias="VIDEO", substring_matching="true") == ["b-video"]
    assert await aliases(search="o") == ["b-video", "c-ops"]
    assert await aliases(search=tokens["a-ads"]) == ["a-ads"]
    assert await aliases(key_hash=tokens["b-video"]) == ["b-video"]
    assert await aliases(key_hash=hashlib.sha256(secret.encode()).hexdigest()) == ["c-ops"]
    assert await aliases(status="revoked") == ["c-ops"]
    assert await aliases(status="active") == ["a-ads", "b-video"]
    assert await aliases(expires="active", include_team_keys="true", user_id="") == [
        "a-ads",
        "b-video",
        "c-ops",
    ]
    never = await _list(served, status="expired")  # vidgate's keys never expire
    assert never == {"keys": [], "total_count": 0, "current_page": 1, "total_pages": 0}
    expanded = await _list(served, expand="user", key_alias="a-ads")
    assert [k["token"] for k in expanded["keys"]] == [tokens["a-ads"]]  # whole keys, as LiteLLM's expand
