"""Every config file in the seed documents loads as a gateway config (the LiteLLM format, unchanged).

A block counts as a config file when it is YAML whose top level names a config section (``model_list``,
``*_settings``). Each ``os.environ/NAME`` it references is given a value, as a user starting the
gateway would have done.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from vidgate.gateway.config import parse_config

SEEDS_DIR = Path(os.environ.get("VIDGATE_SEEDS_DIR") or Path(__file__).parents[3] / "shared" / "seeds")
_BLOCK = re.compile(r"```ya?ml\n(.*?)```", re.DOTALL)
_ENV = re.compile(r"os\.environ/([A-Za-z_][A-Za-z0-9_]*)")


def _is_config(data: Any) -> bool:
    return isinstance(data, dict) and any(k == "model_list" or str(k).endswith("_settings") for k in data)


def config_blocks() -> list[Any]:
    if not SEEDS_DIR.is_dir():
        return []
    found = []
    for path in sorted(SEEDS_DIR.glob("*.txt")):
        for index, block in enumerate(_BLOCK.findall(path.read_text(encoding="utf-8"))):
            data = yaml.safe_load(block)
            if _is_config(data):
                found.append(pytest.param(block, id=f"{path.stem}[{index}]"))
    return found


BLOCKS = config_blocks()


@pytest.mark.skipif(not SEEDS_DIR.is_dir(), reason=f"seed docs not found at {SEEDS_DIR} (VIDGATE_SEEDS_DIR)")
def test_the_seeds_have_config_files() -> None:
    assert len(BLOCKS) >= 3  # seeds 000 (veo), 002 (videos_settings), 003 (sora + azure)


@pytest.mark.parametrize("block", BLOCKS)
def test_seed_config_loads(block: str) -> None:
    environ = {name: f"test-{name.lower()}" for name in _ENV.findall(block)}
    environ["AZURE_OPENAI_API_BASE"] = "https://example.openai.azure.com"  # must be a URL
    config = parse_config(yaml.safe_load(block), environ=environ)
    assert config.deployments, "a seed config that serves no model"
    for dep in config.deployments:
        assert dep.spec.provider == dep.provider
