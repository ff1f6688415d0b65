"""Key administration and spend logs, in the shapes LiteLLM users already script against.

``POST /key/generate``, ``GET /key/info``, ``POST /key/update``, ``POST /key/delete``, ``GET /key/list``,
``GET /spend/logs``; and vidgate's ``GET /admin/deployments`` (health, cooldowns, lifecycle warnings:
what the dashboard's admin page shows). The gateway allows them for the master key only. Key changes
invalidate the gateway's key cache in this process at once (other replicas within its few-second TTL).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from vidgate.catalog import from_micros
from vidgate.errors import BadRequestError, invalid_value
from vidgate.gateway import keys as keylib
from vidgate.gateway.keys import MAX_LIMIT
from vidgate.gateway.records import KeyQuery, KeyRecord, SpendEntry
from vidgate.inputs import parse_int
from vidgate.server import forms
from vidgate.server.endpoint import JSON, Body, Endpoint, Reply, fields_of
from vidgate.server.responses import json_response
from vidgate.server.schemas.keys import (
    BOOLEAN,
    KEY_SORTS,
    MAX_KEY_PAGE,
    MAX_SPEND_LOGS,
    NO_SUCH_ATTRIBUTE,
    DeletedKeys,
    DeleteKeysBody,
    DeploymentList,
    GeneratedKey,
    KeyFields,
    KeyInfo,
    KeyInfoQuery,
    KeyList,
    KeyListQuery,
    KeyView,
    SpendLogEntry,
    SpendLogs,
    SpendLogsQuery,
    UpdateKeyBody,
)
from vidgate.server.state import caller, server_state

KEY_FIELDS = fields_of(KeyFields)
MAX_UNIX_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z


def key_view(record: KeyRecord) -> KeyView:
    """A key as LiteLLM's key endpoints show it (``token`` is the key's id)."""
    return KeyView.model_validate(keylib.info(record)["info"])


def generated_key(record: KeyRecord, secret: str) -> GeneratedKey:
    """A new key: its view and, this once, its secret."""
    return GeneratedKey.model_validate({"key": secret, **keylib.info(record)["info"]})


def _key_fields(body: dict[str, Any], *, skip: str | None = None) -> dict[str, Any]:
    fields = {name: value for name, value in body.items() if name != skip}
    for name in fields:
        if name not in KEY_FIELDS:
            raise BadRequestError(
                f"Unknown parameter: '{name}'. Supported fields are: {', '.join(keylib.KEY_FIELDS)}.",
                param=name,
                code="unknown_parameter",
            )
    return fields


def spend_view(entry: SpendEntry) -> SpendLogEntry:
    when = dt.datetime.fromtimestamp(entry.created_at, tz=dt.UTC).isoformat()
    return SpendLogEntry.model_validate(
        {
            "request_id": entry.job_id,
            "id": entry.id,
            "call_type": "video_generation",
            "api_key": entry.key_id,
            "model": entry.model_name,
            "model_id": entry.deployment_id,
            "spend": from_micros(entry.cost_micros),
            "seconds": entry.seconds,
            "size": entry.size,
            "startTime": when,
            "endTime": when,
            "created_at": entry.created_at,
            "metadata": entry.metadata,
        }
    )


async def generate_key(request: Request) -> Response:
    principal = await caller(request)
    state = server_state(request)
    fields = _key_fields(await forms.read_body(request))
    secret, record = await state.service.generate_key(principal, **fields)
    return json_response(generated_key(record, secret))


def only_known_params(request: Request, route: str, query: type[BaseModel] | None) -> None:
    """Every query parameter must be one ``query`` (the route's documented model) declares: a 400 naming
    the first other one. These routes answered LiteLLM's filters vidgate lacks (``/spend/logs?user_id=``,
    ``/key/info?key_alias=``) as if they were not there: another answer than the one asked for."""
    names = [info.alias or name for name, info in query.model_fields.items()] if query is not None else []
    for name in request.query_params:
        if name not in names:
            takes = f"takes {', '.join(names)}" if names else "takes no query parameters"
            raise BadRequestError(
                f"Unknown parameter: '{name[:60]}'. GET {route} {takes}.",
                param=name[:255],
                code="unknown_parameter",
            )


async def key_info(request: Request) -> Response:
    principal = await caller(request)
    only_known_params(request, "/key/info", KeyInfoQuery)
    info = await server_state(request).service.key_info(principal, request.query_params.get("key") or None)
    return json_response(KeyInfo.model_validate(info))


async def key_list(request: Request) -> Response:
    """One page of keys, as LiteLLM's ``/key/list`` pages them (tokens unless ``return_full_object``)."""
    principal = await caller(request)
    only_known_params(request, "/key/list", KeyListQuery)
    query, page, size, full = key_list_query(request.query_params)
    records, total = await server_state(request).service.list_keys(principal, query)
    keys: list[str] | list[KeyView] = [key_view(r) for r in records] if full else [r.id for r in records]
    pages = -(-total // size)
    return json_response(KeyList(keys=keys, total_count=total, current_page=page, total_pages=pages))


def key_list_query(query: Mapping[str, str]) -> tuple[KeyQuery | None, int, int, bool]:
    """(the store query, or None when no key can match; page; size; whether to show whole keys) from
    LiteLLM's parameters, each checked with LiteLLM's defaults and bounds (``KeyListQuery``)."""
    page = parse_int(query["page"], "page", low=1, high=MAX_LIMIT) if "page" in query else 1
    size = parse_int(query["size"], "size", low=1, high=MAX_KEY_PAGE) if "size" in query else 10
    full = _flag(query, "return_full_object") | (_choice(query, "expand", ("user",)) is not None)
    for name in NO_SUCH_ATTRIBUTE:
        if query.get(name):
            raise BadRequestError(
                f"Invalid '{name}': vidgate's keys belong to no user, team, organization, project, access "
                f"group or agent; leave '{name}' out.",
                param=name,
                code="unsupported_value",
            )
    _flag(query, "include_team_keys")  # widen what a non-admin sees; the master key sees every key
    _flag(query, "include_created_by_keys")
    if query.get("status") == "deleted":
        raise BadRequestError(
            "Invalid 'status': vidgate keeps no deleted keys (their spend stays in /spend/logs). "
            "Supported values are: 'active', 'expired', and 'revoked'.",
            param="status",
            code="invalid_value",
        )
    status = _choice(query, "status", ("active", "expired", "revoked"))
    expires = _choice(query, "expires", ("active", "expired"))
    sort_by = _choice(query, "sort_by", KEY_SORTS)
    order = query.get("sort_order", "desc")
    if order.lower() not in ("asc", "desc"):  # LiteLLM takes any case
        raise invalid_value("sort_order", order[:40], ["asc", "desc"])
    alias = query.get("key_alias") or None
    substring = _flag(query, "substring_matching")
    if status == "expired" or expires == "expired":  # vidgate's keys never expire
        return None, page, size, full
    found = KeyQuery(
        offset=(page - 1) * size,
        limit=size,
        token=query.get("key_hash") or None,
        alias=None if substring else alias,
        alias_contains=alias if substring else None,
        search=query.get("search") or None,
        revoked={"active": False, "revoked": True}.get(status or ""),
        sort=next((s for s in KEY_SORTS if s == sort_by), "created_at"),
        descending=order.lower() == "desc",
    )
    return found, page, size, full


_BOOLEANS = {"true": True, "t": True, "yes": True, "y": True, "on": True, "1": True}
_BOOLEANS |= {"false": False, "f": False, "no": False, "n": False, "off": False, "0": False}


def _flag(query: Mapping[str, str], name: str) -> bool:
    """A boolean as LiteLLM's FastAPI reads one (any case); absent: false."""
    raw = query.get(name)
    if raw is None:
        return False
    value = _BOOLEANS.get(raw.lower())
    if value is None:
        raise BadRequestError(
            f"Invalid '{name}': expected a boolean, {BOOLEAN}; got '{raw[:40]}'.",
            param=name,
            code="invalid_value",
        )
    return value


def _choice(query: Mapping[str, str], name: str, allowed: Sequence[str]) -> str | None:
    raw = query.get(name)
    if raw is not None and raw not in allowed:
        raise invalid_value(name, raw[:40], list(allowed))
    return raw


async def update_key(request: Request) -> Response:
    principal = await caller(request)
    state = server_state(request)
    body = await forms.read_body(request)
    key = forms.text(body, "key", required=True)
    assert key is not None
    fields = _key_fields(body, skip="key")
    record = await state.service.update_key(principal, key, **fields)
    return json_response(key_view(record))


async def delete_keys(request: Request) -> Response:
    principal = await caller(request)
    state = server_state(request)
    body = await forms.read_body(request)
    keys = body.get("keys")
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys):
        raise BadRequestError(
            "Invalid 'keys': expected a non-empty list of keys (secrets or key ids).", param="keys"
        )
    deleted = await state.service.delete_keys(principal, keys)
    return json_response(DeletedKeys(deleted_keys=deleted))


async def spend_logs(request: Request) -> Response:
    principal = await caller(request)
    only_known_params(request, "/spend/logs", SpendLogsQuery)  # LiteLLM's request_id, user_id, ...
    query = request.query_params
    key = query.get("api_key") or query.get("key") or None
    start = _when(query.get("start_date"), "start_date", end_of_day=False)
    end = _when(query.get("end_date"), "end_date", end_of_day=True)
    raw_limit = query.get("limit")  # its own bounds in the one message, 2**64 included
    limit = parse_int(raw_limit, "limit", low=1, high=MAX_SPEND_LOGS) if raw_limit is not None else 1000
    entries = await server_state(request).service.spend_logs(
        principal, key=key, start=start, end=end, limit=limit
    )
    return json_response(SpendLogs([spend_view(e) for e in entries]))


async def deployments(request: Request) -> Response:
    principal = await caller(request)
    only_known_params(request, "/admin/deployments", None)
    rows = server_state(request).service.deployments(principal)
    return json_response(DeploymentList.model_validate({"data": rows}))


def _when(raw: str | None, param: str, *, end_of_day: bool) -> int | None:
    """Unix seconds, or a date ``YYYY-MM-DD`` (UTC; the whole day for an end date), or an ISO time."""
    if not raw:
        return None
    if raw.isascii() and raw.isdigit():
        return parse_int(raw, param, low=0, high=MAX_UNIX_SECONDS)
    try:
        if len(raw) == 10:
            day = dt.date.fromisoformat(raw)
            moment = dt.datetime.combine(day, dt.time.max if end_of_day else dt.time.min, tzinfo=dt.UTC)
        else:
            moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.UTC)
    except (ValueError, OverflowError) as exc:
        raise BadRequestError(
            f"Invalid '{param}': '{raw[:40]}'. Expected a date (YYYY-MM-DD), an ISO 8601 time or unix "
            "seconds.",
            param=param,
        ) from exc
    return int(moment.timestamp())


def endpoints() -> list[Endpoint]:
    tag = "Keys (master key)"
    key = {200: Reply("The key.", KeyView)}
    return [
        Endpoint(
            "POST",
            "/key/generate",
            generate_key,
            "Create a virtual key",
            tag,
            {200: Reply("The key, with its secret (shown once).", GeneratedKey)},
            Body({JSON: KeyFields}, required=False),
        ),
        Endpoint(
            "GET",
            "/key/info",
            key_info,
            "A key's settings and spend (a virtual key: its own)",
            tag,
            {200: Reply("The key.", KeyInfo)},
            query=KeyInfoQuery,
        ),
        Endpoint(
            "GET",
            "/key/list",
            key_list,
            "List keys, a page at a time (LiteLLM's parameters)",
            tag,
            {200: Reply("One page: the keys' tokens, or with return_full_object the keys.", KeyList)},
            query=KeyListQuery,
        ),
        Endpoint("POST", "/key/update", update_key, "Update a key", tag, key, Body({JSON: UpdateKeyBody})),
        Endpoint(
            "POST",
            "/key/delete",
            delete_keys,
            "Delete keys",
            tag,
            {200: Reply("The deleted keys' ids.", DeletedKeys)},
            Body({JSON: DeleteKeysBody}),
        ),
        Endpoint(
            "GET",
            "/spend/logs",
            spend_logs,
            "Settled charges, newest first",
            tag,
            {200: Reply("The entries.", SpendLogs)},
            query=SpendLogsQuery,
        ),
        Endpoint(
            "GET",
            "/admin/deployments",
            deployments,
            "Deployments: health, cooldowns, lifecycle warnings",
            tag,
            {200: Reply("Every configured deployment.", DeploymentList)},
        ),
    ]
