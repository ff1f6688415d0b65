"""``vidgate keys ...``: manage virtual keys through a running gateway's admin API.

It talks HTTP (``--api-base``, ``--master-key``; or ``VIDGATE_API_BASE`` / ``VIDGATE_MASTER_KEY``) rather
than opening the database, so it works the same against a remote deployment, never bypasses the
gateway's validation, and clears the serving process's key cache on every change.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import httpx
import typer

group = typer.Typer(help="Create, inspect, change and revoke virtual keys (through the gateway's admin API).")

ApiBase = Annotated[
    str, typer.Option("--api-base", envvar="VIDGATE_API_BASE", help="The gateway's base URL.")
]
MasterKey = Annotated[
    str,
    typer.Option(
        "--master-key", envvar="VIDGATE_MASTER_KEY", help="The gateway's master key.", show_default=False
    ),
]
Models = Annotated[
    list[str] | None,
    typer.Option(
        "--model", "--models", help="A model this key may use (repeat, or comma-separate). Default: all."
    ),
]
MaxBudget = Annotated[float | None, typer.Option("--max-budget", help="Budget in USD.")]
BudgetDuration = Annotated[
    str | None, typer.Option("--budget-duration", help="Budget period, e.g. 30d, 12h, 1mo (resets).")
]
RpmLimit = Annotated[int | None, typer.Option("--rpm-limit", help="Requests per minute.")]
MaxParallel = Annotated[
    int | None, typer.Option("--max-parallel-requests", help="Concurrent unfinished jobs at most.")
]
Alias = Annotated[str | None, typer.Option("--alias", "--key-alias", help="A name for the key.")]
Metadata = Annotated[str | None, typer.Option("--metadata", help='JSON object, e.g. \'{"team": "ads"}\'.')]
DEFAULT_BASE = "http://127.0.0.1:4000"
LIST_PAGE = 100


def _fields(
    models: list[str] | None,
    max_budget: float | None,
    budget_duration: str | None,
    rpm_limit: int | None,
    max_parallel_requests: int | None,
    alias: str | None,
    metadata: str | None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if models:
        fields["models"] = [m.strip() for entry in models for m in entry.split(",") if m.strip()]
    if max_budget is not None:
        fields["max_budget"] = max_budget
    if budget_duration is not None:
        fields["budget_duration"] = budget_duration
    if rpm_limit is not None:
        fields["rpm_limit"] = rpm_limit
    if max_parallel_requests is not None:
        fields["max_parallel_requests"] = max_parallel_requests
    if alias is not None:
        fields["key_alias"] = alias
    if metadata is not None:
        try:
            parsed = json.loads(metadata)
        except json.JSONDecodeError as exc:
            raise typer.BadParameter(f"not valid JSON: {exc}", param_hint="--metadata") from exc
        if not isinstance(parsed, dict):
            raise typer.BadParameter("expected a JSON object", param_hint="--metadata")
        fields["metadata"] = parsed
    return fields


def _call(api_base: str, master_key: str, method: str, path: str, **kwargs: Any) -> Any:
    if not master_key:
        raise typer.BadParameter("the gateway's master key is needed", param_hint="--master-key")
    url = api_base.rstrip("/") + path
    try:
        response = httpx.request(
            method, url, headers={"Authorization": f"Bearer {master_key}"}, timeout=30.0, **kwargs
        )
    except httpx.HTTPError as exc:
        typer.echo(f"error: could not reach the gateway at {api_base}: {exc}", err=True)
        raise typer.Exit(2) from exc
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if response.status_code >= 400:
        message = body.get("error", {}).get("message") if isinstance(body, dict) else body
        typer.echo(f"error: {response.status_code}: {message}", err=True)
        raise typer.Exit(1)
    return body


def _print(body: Any) -> None:
    typer.echo(json.dumps(body, indent=2, sort_keys=False))


@group.command("generate")
def generate(
    models: Models = None,
    max_budget: MaxBudget = None,
    budget_duration: BudgetDuration = None,
    rpm_limit: RpmLimit = None,
    max_parallel_requests: MaxParallel = None,
    alias: Alias = None,
    metadata: Metadata = None,
    api_base: ApiBase = DEFAULT_BASE,
    master_key: MasterKey = "",
) -> None:
    """Create a key; its secret is printed once (only its hash is stored)."""
    fields = _fields(models, max_budget, budget_duration, rpm_limit, max_parallel_requests, alias, metadata)
    _print(_call(api_base, master_key, "POST", "/key/generate", json=fields))


@group.command("list")
def list_keys(api_base: ApiBase = DEFAULT_BASE, master_key: MasterKey = "") -> None:
    """Every key (without secrets), newest first."""
    keys: list[Any] = []
    page, pages = 1, 1
    while page <= pages:  # /key/list answers a page at a time (LiteLLM's: at most 100 keys)
        params = {"page": page, "size": LIST_PAGE, "return_full_object": "true"}
        body = _call(api_base, master_key, "GET", "/key/list", params=params)
        keys += body["keys"]
        pages = body["total_pages"] if page == 1 else pages
        page += 1
    _print({"keys": keys, "total_count": len(keys)})


@group.command("info")
def info(
    key: Annotated[str, typer.Argument(help="The key's secret (sk-...) or its id (token).")],
    api_base: ApiBase = DEFAULT_BASE,
    master_key: MasterKey = "",
) -> None:
    """One key's limits and spend."""
    _print(_call(api_base, master_key, "GET", "/key/info", params={"key": key}))


@group.command("update")
def update(
    key: Annotated[str, typer.Argument(help="The key's secret (sk-...) or its id (token).")],
    models: Models = None,
    max_budget: MaxBudget = None,
    budget_duration: BudgetDuration = None,
    rpm_limit: RpmLimit = None,
    max_parallel_requests: MaxParallel = None,
    alias: Alias = None,
    metadata: Metadata = None,
    api_base: ApiBase = DEFAULT_BASE,
    master_key: MasterKey = "",
) -> None:
    """Change a key's limits, models, alias or metadata."""
    fields = _fields(models, max_budget, budget_duration, rpm_limit, max_parallel_requests, alias, metadata)
    if not fields:
        raise typer.BadParameter("nothing to change: give at least one option", param_hint="KEY")
    _print(_call(api_base, master_key, "POST", "/key/update", json={"key": key, **fields}))


@group.command("delete")
def delete(
    keys: Annotated[list[str], typer.Argument(help="Keys (secrets or ids) to revoke.")],
    api_base: ApiBase = DEFAULT_BASE,
    master_key: MasterKey = "",
) -> None:
    """Revoke keys: they stop working at once."""
    _print(_call(api_base, master_key, "POST", "/key/delete", json={"keys": keys}))


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="keys")
