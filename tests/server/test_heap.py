"""The served app freezes what start-up built out of the garbage collector's full passes; an app built
by a caller (tests, an embedding program) leaves the process's collector alone."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from vidgate import settings
from vidgate.gateway.config import parse_config
from vidgate.server import app as app_module
from vidgate.server.app import app_from_env, create_app
from vidgate.server.heap import freeze_startup_heap


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()  # the rest of the test run collects as before


def _config(tmp_path: Path) -> dict[str, object]:
    return {
        "general_settings": {
            "master_key": "sk-heap-master",
            "database_url": f"sqlite:///{tmp_path / 'vidgate.db'}",
            "content_dir": str(tmp_path / "content"),
        }
    }


@pytest.mark.usefixtures("unfrozen")
def test_freezing_moves_the_live_heap_out_of_collection() -> None:
    kept = [{"built": "at start-up"}]
    assert _collected(kept)
    freeze_startup_heap()
    assert gc.get_freeze_count() > 0
    assert not _collected(kept)  # no generation holds it: no collection walks it


def _collected(obj: object) -> bool:
    """Whether a generation of the collector holds ``obj``."""
    return any(any(o is obj for o in gc.get_objects(generation)) for generation in range(3))


@pytest.mark.usefixtures("unfrozen")
async def test_the_served_app_freezes_its_heap_once_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(_config(tmp_path)))
    monkeypatch.setenv(settings.CONFIG_FILE, str(path))
    monkeypatch.setattr(app_module, "lean_log_records", lambda: None)  # process-wide: not in a test run
    app = app_from_env()
    assert gc.get_freeze_count() == 0  # building the app freezes nothing: starting it does
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("unfrozen")
async def test_an_app_built_by_a_caller_leaves_the_collector_alone(tmp_path: Path) -> None:
    app = create_app(parse_config(_config(tmp_path), environ={}), run_worker=False)
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() == 0
