from __future__ import annotations

import pytest
from tests.support.env import clear_provider_env


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_provider_env(monkeypatch)
