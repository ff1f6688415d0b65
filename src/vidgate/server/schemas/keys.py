"""Key administration and spend logs, in LiteLLM's shapes (``server/routes/admin.py``).

``KeyFields`` is the allowlist of ``/key/generate`` and ``/key/update`` (``gateway.keys.KEY_FIELDS``
must name the same fields: a test holds them together); ``gateway/keys.py`` enforces the bounds.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from vidgate.gateway.keys import MAX_BUDGET_USD, MAX_LIMIT

MAX_SPEND_LOGS = 10_000


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
    keys: list[KeyView]
    total_count: int


class DeletedKeys(BaseModel):
    deleted_keys: list[str]


class KeyInfoQuery(BaseModel):
    key: str | None = Field(None, description="A secret or key id (the master key: any key).")


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
