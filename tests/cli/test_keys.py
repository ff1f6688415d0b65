"""``vidgate keys ...`` against a running gateway's admin API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.server.conftest import MASTER, gateway_config
from tests.support.cli import free_port
from tests.support.live import live_server
from typer.testing import CliRunner

from vidgate.cli.main import app
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

runner = CliRunner()


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[str]:
    config = gateway_config(tmp_path)
    with live_server(create_app(config, stores=MemoryStores(), run_worker=False)) as url:
        yield url


def keys(url: str, *args: str, master: str = MASTER) -> Any:
    result = runner.invoke(app, ["keys", *args, "--api-base", url, "--master-key", master])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_generate_list_info_update_delete(gateway: str) -> None:
    made = keys(
        gateway,
        "generate",
        "--alias",
        "team-a",
        "--model",
        "local-1,local-free",
        "--max-budget",
        "5",
        "--budget-duration",
        "30d",
        "--rpm-limit",
        "10",
        "--max-parallel-requests",
        "2",
        "--metadata",
        '{"team": "ads"}',
    )
    assert made["key"].startswith("sk-")
    assert made["models"] == ["local-1", "local-free"]
    assert made["max_budget"] == 5
    assert made["metadata"] == {"team": "ads"}
    listed = keys(gateway, "list")
    assert [k["key_alias"] for k in listed["keys"]] == ["team-a"]
    info = keys(gateway, "info", made["key"])
    assert info["info"]["rpm_limit"] == 10
    changed = keys(gateway, "update", made["token"], "--rpm-limit", "20", "--alias", "team-b")
    assert changed["rpm_limit"] == 20
    assert changed["key_alias"] == "team-b"
    assert keys(gateway, "delete", made["key"]) == {"deleted_keys": [made["key"]]}
    assert keys(gateway, "list")["keys"] == []


def test_errors_are_reported_with_a_non_zero_exit(gateway: str) -> None:
    wrong = runner.invoke(app, ["keys", "list", "--api-base", gateway, "--master-key", "sk-wrong-master-key"])
    assert wrong.exit_code == 1
    assert "401" in wrong.output
    bad_field = runner.invoke(
        app, ["keys", "generate", "--budget-duration", "soon", "--api-base", gateway, "--master-key", MASTER]
    )
    assert bad_field.exit_code == 1
    assert "budget_duration" in bad_field.output
    bad_json = runner.invoke(
        app, ["keys", "generate", "--metadata", "[1]", "--api-base", gateway, "--master-key", MASTER]
    )
    assert bad_json.exit_code == 2
    assert "--metadata" in bad_json.output
    nothing = runner.invoke(app, ["keys", "update", "sk-x", "--api-base", gateway, "--master-key", MASTER])
    assert nothing.exit_code == 2
    unreachable = runner.invoke(
        app, ["keys", "list", "--api-base", f"http://127.0.0.1:{free_port()}", "--master-key", MASTER]
    )
    assert unreachable.exit_code == 2
    assert "could not reach" in unreachable.output


def test_master_key_from_the_environment(gateway: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDGATE_MASTER_KEY", MASTER)
    monkeypatch.setenv("VIDGATE_API_BASE", gateway)
    result = runner.invoke(app, ["keys", "list"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["keys"] == []


def test_list_reads_every_page(gateway: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """/key/list answers a page at a time; the command shows every key, once."""
    monkeypatch.setattr("vidgate.cli.keys.LIST_PAGE", 2)
    made = [keys(gateway, "generate", "--alias", f"k{i}")["token"] for i in range(5)]
    listed = keys(gateway, "list")
    assert listed["total_count"] == 5
    assert sorted(k["token"] for k in listed["keys"]) == sorted(made)
    assert {k["key_alias"] for k in listed["keys"]} == {"k0", "k1", "k2", "k3", "k4"}
