from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.gateway.harness import Gateway, make_gateway


@pytest.fixture
def local_root(render_cache: Path, tmp_path: Path) -> Path:
    """Local provider jobs per test; renders shared through the session cache (same spec, one encode)."""
    root = tmp_path / "local"
    root.mkdir()
    (root / "renders").symlink_to(render_cache, target_is_directory=True)
    return root


@pytest.fixture
async def gw(local_root: Path) -> AsyncIterator[Gateway]:
    gateway = make_gateway(local_root)
    yield gateway
    await gateway.close()
