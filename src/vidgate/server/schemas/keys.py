"""Key administration and spend logs, in LiteLLM's shapes (``server/routes/admin.py``).

``KeyFields`` is the allowlist of ``/key/generate`` and ``/key/update`` (``gateway.keys.KEY_FIELDS``
must name the same fields: a test holds them together); ``gateway/keys.py`` enforces the bounds.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, RootModel

from vidgate.gateway.keys import MAX_BUDGET_USD, MAX_LIMIT
from vidgate.gateway.records import KeySort

MAX_SPEND_LOGS = 10_000
MAX_KEY_PAGE = 100  # LiteLLM's bound on /key/list's size


class KeyFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[str] | None = Field(None, description="Served model names the key may use (all: empty).")
    max_budget: float | None = Field(None, ge=0, le=MAX_BUDGET_USD, description="USD per period.")
    budget_duration: str | None = Field(None, description="A period: `30s`, `1h`, `1d`, `30d`, `1mo`.")
    rpm_limit: int | None = Field(None, ge=1, le=MAX_LIMIT)
    max_parallel_requests: int | None = Field(None, ge=1, le=MAX_LIMIT)
    key_alias: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    blocked: bool = False
    guardrails: list[str] = Field(
        default_factory=list, description="Guardrails this key opts into (in metadata)."
    )
    disable_global_guardrails: bool = Field(
        False, description="Opt out of the global guardrails (in metadata)."
    )


class UpdateKeyBody(KeyFields):
    key: str = Field(description="The key's secret or id.")


class DeleteKeysBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keys: list[str] = Field(min_length=1, description="Secrets or key ids.")


class KeyView(BaseModel):
    """A key as LiteLLM shows it (``token`` is the key's id; money in USD)."""

    token: str
    key_name: str
    key_alias: str | None
    models: list[str]
    max_budget: float | None
    budget_duration: str | None
    budget_reset_at: int | None
    spend: float
    total_spend: float
    reserved: float
    active_jobs: int
    rpm_limit: int | None
    max_parallel_requests: int | None
    metadata: dict[str, Any]
    created_at: int
    blocked: bool


class GeneratedKey(KeyView):
    key: str = Field(description="The secret: shown once.")


class KeyInfo(BaseModel):
    key: str
    info: KeyView


class KeyList(BaseModel):
    """``GET /key/list``: one page, as LiteLLM answers it (``keys``: tokens, or with
    ``return_full_object`` the keys themselves)."""

    keys: list[str] | list[KeyView]
    total_count: int = Field(description="Keys matching the filters, on every page.")
    current_page: int
    total_pages: int


class DeletedKeys(BaseModel):
    deleted_keys: list[str]


class KeyInfoQuery(BaseModel):
    key: str | None = Field(None, description="A secret or key id (the master key: any key).")


KEY_SORTS: tuple[KeySort, ...] = get_args(KeySort)
NO_SUCH_ATTRIBUTE = ("user_id", "team_id", "organization_id", "project_id", "access_group_id", "agent_id")
"""LiteLLM's filters on what vidgate's keys do not have (no users, teams, ...): only an empty value."""
BOOLEAN = "true or false (also 1/0, yes/no, on/off)"


class KeyListQuery(BaseModel):
    """LiteLLM's ``/key/list`` parameters, with its defaults and bounds."""

    page: int = Field(1, ge=1, le=MAX_LIMIT)
    size: int = Field(10, ge=1, le=MAX_KEY_PAGE)
    return_full_object: bool = Field(False, description=f"The keys themselves, not their tokens: {BOOLEAN}.")
    expand: Literal["user"] | None = Field(None, description="`user`: the keys themselves (none has a user).")
    key_alias: str | None = Field(None, description="Exact, or with `substring_matching` case-insensitive.")
    substring_matching: bool = Field(False, description=f"`key_alias` matches a part of an alias: {BOOLEAN}.")
    key_hash: str | None = Field(None, description="A key's token (its id), or its secret's sha256 hex.")
    search: str | None = Field(None, description="A token, or a case-insensitive part of an alias.")
    status: Literal["active", "expired", "revoked"] | None = Field(
        None, description="`revoked`: blocked; `active`: not blocked; `expired`: none (keys never expire)."
    )
    expires: Literal["active", "expired"] | None = Field(None, description="Keys never expire.")
    sort_by: KeySort | None = Field(None, description="Default: `created_at` (ties by token).")
    sort_order: Literal["asc", "desc"] = "desc"
    include_team_keys: bool = Field(False, description="Taken (the master key sees every key).")
    include_created_by_keys: bool = Field(False, description="Taken (the master key sees every key).")
    user_id: Literal[""] | None = Field(None, description="Keys belong to no user: only empty is taken.")
    team_id: Literal[""] | None = Field(None, description="Keys belong to no team: only empty is taken.")
    organization_id: Literal[""] | None = Field(None, description="Only empty is taken.")
    project_id: Literal[""] | None = Field(None, description="Only empty is taken.")
    access_group_id: Literal[""] | None = Field(None, description="Only empty is taken.")
    agent_id: Literal[""] | None = Field(None, description="Only empty is taken.")


class SpendLogsQuery(BaseModel):
    api_key: str | None = None
    key: str | None = None
    start_date: str | None = Field(None, description="YYYY-MM-DD, ISO 8601 or unix seconds.")
    end_date: str | None = Field(None, description="YYYY-MM-DD (the whole day), ISO 8601 or unix seconds.")
    limit: int = Field(1000, ge=1, le=MAX_SPEND_LOGS)


class SpendLogEntry(BaseModel):
    request_id: str
    id: str
    call_type: str
    api_key: str
    model: str
    model_id: str
    spend: float
    seconds: float
    size: str
    startTime: str
    endTime: str
    created_at: int
    metadata: dict[str, Any]


class SpendLogs(RootModel[list[SpendLogEntry]]):
    """``GET /spend/logs``: the entries, newest first."""


class DeploymentView(BaseModel):
    """One deployment as the admin sees it (``gateway/deployments.py``)."""

    id: str
    model_name: str
    provider: str
    model: str
    healthy: bool
    cooldown_seconds: float
    in_flight: int
    rpm: int | None
    weight: int | float
    lifecycle: Literal["active", "deprecated", "retired"]
    deprecated_on: str | None
    retires_on: str | None
    successor: str | None
    allow_retired: bool
    warning: str | None


class DeploymentList(BaseModel):
    """``GET /admin/deployments``: every configured deployment with its health and lifecycle."""

    object: Literal["list"] = "list"
    data: list[DeploymentView]
