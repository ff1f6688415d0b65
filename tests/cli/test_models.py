"""``vidgate models``: the catalogue as a table or as ``{"data": [...]}``."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from typer.testing import CliRunner

from vidgate.catalog import ModelSpec
from vidgate.catalog import spec as catalog_spec
from vidgate.cli import models as models_cli
from vidgate.cli.main import app
from vidgate.providers.catalogue import find_model, load_catalog

runner = CliRunner()


def _models_json_on(day: dt.date, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    monkeypatch.setattr(catalog_spec, "current_date", lambda: day)
    result = runner.invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    data: list[dict[str, Any]] = json.loads(result.stdout)["data"]
    return data


@pytest.mark.parametrize(
    ("day", "lifecycle"), [(dt.date(2026, 10, 21), "active"), (dt.date(2026, 10, 22), "retired")]
)
def test_models_json_lifecycle_follows_the_dates_on_a_fixed_day(
    day: dt.date, lifecycle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _models_json_on(day, monkeypatch)
    veo = next(row for row in data if row["id"] == "gemini/veo-3.1-generate-preview")  # retires 2026-10-22
    assert veo["lifecycle"] == lifecycle
    sora = next(row for row in data if row["id"] == "openai/sora-2")  # retired 2026-09-24
    assert sora["lifecycle"] == "retired"


def test_models_json_lists_every_catalogue_row() -> None:
    result = runner.invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["data"]
    assert [row["id"] for row in data] == [spec.id for spec in load_catalog()]
    veo = next(row for row in data if row["id"] == "gemini/veo-3.1-generate-preview")
    assert veo["seconds"] == [4, 6, 8]
    assert veo["seconds_by_resolution"] == {"1080p": [8], "4k": [8]}
    assert veo["price_per_second"] == {"720p": 0.4, "1080p": 0.4, "4k": 0.6}
    assert "reference_images" in veo["features"]
    assert veo["retires_on"] == "2026-10-22"


def test_models_provider_filter_accepts_aliases() -> None:
    result = runner.invoke(app, ["models", "--provider", "vertex", "--json"])
    assert result.exit_code == 0, result.output
    ids = [row["id"] for row in json.loads(result.stdout)["data"]]
    assert ids
    assert all(i.startswith("vertex_ai/") for i in ids)


def test_models_table_and_unknown_provider() -> None:
    result = runner.invoke(app, ["models", "--provider", "local"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "local/local-1" in result.stdout
    assert "$/s by resolution" in result.stdout
    assert "720p $0.00" in result.stdout
    bad = runner.invoke(app, ["models", "--provider", "acme"])
    assert bad.exit_code == 2
    assert "unknown provider 'acme'" in bad.output


def _values(spec: ModelSpec) -> list[str]:
    """What a reader must be able to see for ``spec``: id, lifecycle, features and every price."""
    prices = [f"{tier} ${spec.prices[tier]:.2f}" for tier in spec.prices]
    if spec.deployment_priced:
        prices = ["set by the deployment"]
    return [spec.id, spec.lifecycle(), *sorted(spec.features), *prices]


@pytest.mark.parametrize("columns", [80, 120, 200])
def test_models_table_shows_everything_at_any_width(columns: int) -> None:
    result = runner.invoke(app, ["models"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= columns
    assert "…" not in result.stdout
    flat = " ".join(" ".join(line.replace("│", " ").split()) for line in lines)
    words = set(re.split(r"[\s,()│:]+", result.stdout))
    for spec in load_catalog():
        for value in _values(spec):
            assert value in flat, f"{value!r} missing at {columns} columns"
        assert str(max(spec.seconds)) in words, f"{spec.id}: longest duration missing at {columns} columns"


def test_a_deployment_priced_row_shows_no_price() -> None:
    """JSON: ``priced_by: deployment``, no per-second price and a null (not 0) price per video; the table
    says who sets the price and marks the features only a self-priced deployment offers."""
    result = runner.invoke(app, ["models", "--provider", "volcengine", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in json.loads(result.stdout)["data"]}
    mini = rows["volcengine/doubao-seedance-2-0-mini-260615"]
    assert (mini["priced_by"], mini["price_per_second"], mini["price_per_video"]) == ("deployment", {}, None)
    assert "reference_videos" in mini["features"]
    seedance = rows["volcengine/doubao-seedance-2-0-260128"]
    assert (seedance["priced_by"], seedance["price_per_video"]) == ("catalogue", 0.0)
    assert seedance["features_priced_by_deployment"] == ["reference_videos"]
    assert "reference_videos" not in seedance["features"]
    assert seedance["max_reference_videos"] == 3
    table = runner.invoke(app, ["models", "--provider", "volcengine"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    mini_line = next(line for line in table.stdout.splitlines() if "mini-260615" in line)
    assert "set by the deployment" in mini_line
    assert "$" not in mini_line
    assert "reference_videos (deployment-priced)" in table.stdout


def test_a_deployment_priced_size_is_shown_as_such() -> None:
    """BytePlus Seedance 2.0's 4k: in JSON beside the catalogue's sizes, not among them; in the table
    as a resolution marked deployment-priced, with no price of its own."""
    result = runner.invoke(app, ["models", "--provider", "byteplus", "--json"])
    assert result.exit_code == 0, result.output
    seedance = {row["id"]: row for row in json.loads(result.stdout)["data"]}[
        "byteplus/dreamina-seedance-2-0-260128"
    ]
    assert seedance["sizes_priced_by_deployment"] == {"3840x2160": "4k", "2160x3840": "4k"}
    assert (seedance["resolutions"], "3840x2160" in seedance["sizes"]) == (["480p", "720p", "1080p"], False)
    assert "4k" not in seedance["price_per_output_token_by_resolution"]
    seedance_row, fast_row = (
        find_model(f"byteplus/dreamina-seedance-2-0-{name}") for name in ("260128", "fast-260128")
    )
    assert seedance_row is not None
    assert fast_row is not None
    assert models_cli._resolutions(seedance_row) == "480p 720p 1080p 4k (deployment-priced)"  # the cell
    assert models_cli._resolutions(fast_row) == "480p 720p"
    table = runner.invoke(app, ["models", "--provider", "byteplus"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "(deployment-priced)" in table.stdout
