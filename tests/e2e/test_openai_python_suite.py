"""openai-python's own ``tests/api_resources/test_videos.py``, unmodified, against a live gateway.

The file and what it imports from openai-python's test tree (``conftest.py``, ``utils.py``, the
``respx2`` fork) are vendored byte for byte under ``tests/fixtures/openai_python`` (version, source and
checksums in its README.md and SHA256SUMS; the first test here checks them against the installed
``openai``). The harness copies that tree to a temporary directory, writes openai-python's own pytest
settings beside it (its ``[tool.pytest.ini_options]`` without ``-n auto --durations=20``: no xdist here)
and runs pytest on it in a subprocess with ``TEST_API_BASE_URL`` pointing at ``placeholder_proxy``, a
loopback proxy in front of a gateway (SQLite, the local provider serving ``sora-2``). The proxy swaps the
file's mock-server placeholders for real ones, per request (its docstring lists every substitution):
each test gets its own video or character, ``b"Example data"`` becomes a real PNG (``input_reference``)
or a real MP4 (``video``), ``"My API Key"`` becomes a virtual key. No assertion of the file is changed.
The ``download_content`` tests mock the HTTP layer with respx, as upstream does: they exercise the client
only, and openai-python's conftest skips them for the aiohttp client (the only skips allowed here).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.placeholder_proxy import (
    PLACEHOLDER_CHARACTER,
    PLACEHOLDER_CURSOR,
    PLACEHOLDER_VIDEO,
    PlaceholderProxy,
)
from tests.support.live import live_server

from vidgate.gateway.config import parse_config
from vidgate.server.app import create_app

VENDORED = Path(__file__).resolve().parents[1] / "fixtures" / "openai_python"
TEST_FILE = "tests/api_resources/test_videos.py"
MASTER = "sk-openai-python-suite-master"
# openai-python 3.63.0's [tool.pytest.ini_options], less "-n auto --durations=20" (pytest-xdist).
PYTEST_INI = """\
[pytest]
testpaths = tests
addopts = --tb=short
xfail_strict = true
asyncio_mode = auto
asyncio_default_fixture_loop_scope = session
filterwarnings =
    error
"""
ALLOWED_SKIP = "aiohttp client is not compatible with respx2_mock"  # openai-python's conftest

pytestmark = pytest.mark.slow


def vendored_version() -> str:
    for line in (VENDORED / "README.md").read_text().splitlines():
        if line.startswith("Version: "):
            return line.removeprefix("Version: ").strip()
    raise AssertionError("tests/fixtures/openai_python/README.md names no 'Version: '")


def test_the_vendored_files_are_upstreams_and_match_the_installed_sdk() -> None:
    assert version("openai") == vendored_version(), "re-vendor the test file for the installed openai"
    listed = {}
    for line in (VENDORED / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name] = digest
    assert TEST_FILE in listed
    for name, digest in listed.items():
        assert hashlib.sha256((VENDORED / name).read_bytes()).hexdigest() == digest, name
    present = {
        p.relative_to(VENDORED).as_posix()
        for p in (VENDORED / "tests").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert present == {name for name in listed if name.startswith("tests/")}


@dataclass
class Harness:
    gateway: str
    proxy: PlaceholderProxy
    proxy_url: str


def gateway_config(root: Path, base: Path) -> Any:
    return parse_config(
        {
            # The file's model; the local renderer serves it (every feature the file uses, offline).
            "model_list": [
                {"model_name": "sora-2", "litellm_params": {"model": "local/local-1", "api_base": str(root)}}
            ],
            "general_settings": {
                "master_key": MASTER,
                "database_url": f"sqlite+aiosqlite:///{base / 'vidgate.db'}",
                "content_dir": str(base / "content"),
            },
        },
        environ={},
    )


@pytest.fixture(scope="module")
def harness(render_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    base = tmp_path_factory.mktemp("openai-python-suite")
    root = base / "local"
    root.mkdir()
    (root / "renders").symlink_to(render_cache, target_is_directory=True)
    with live_server(create_app(gateway_config(root, base))) as gateway:
        made = httpx.post(
            gateway + "/key/generate",
            headers={"Authorization": f"Bearer {MASTER}"},
            json={"key_alias": "openai-python-suite"},
        )
        assert made.status_code == 200, made.text
        proxy = PlaceholderProxy(gateway=gateway, key=made.json()["key"], model="sora-2")
        asyncio.run(proxy.load_source_mp4())
        with live_server(proxy.app()) as proxy_url:
            yield Harness(gateway, proxy, proxy_url)


@dataclass
class Outcome:
    passed: list[str]
    failed: list[str]  # failures and errors, with the first line of each message
    skipped: Counter[str]  # by reason
    output: str


def run_the_file(harness: Harness, workdir: Path) -> Outcome:
    shutil.copytree(VENDORED / "tests", workdir / "tests")
    (workdir / "pytest.ini").write_text(PYTEST_INI)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PYTEST_"))}
    env |= {"TEST_API_BASE_URL": harness.proxy_url + "/v1", "PYTHONDONTWRITEBYTECODE": "1"}
    report = workdir / "report.xml"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--junitxml={report}", TEST_FILE],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    outcome = Outcome([], [], Counter(), run.stdout[-6000:] + run.stderr[-3000:])
    if not report.exists():
        raise AssertionError(f"pytest wrote no report (exit {run.returncode}):\n{outcome.output}")
    for case in ET.parse(report).iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        skip = case.find("skipped")
        if bad is not None:
            outcome.failed.append(f"{name}: {(bad.get('message') or '').splitlines()[:1]}")
        elif skip is not None:
            outcome.skipped[skip.get("message") or ""] += 1
        else:
            outcome.passed.append(name)
    return outcome


# What 3.63.0's file sends with placeholders: per client (sync loose/strict, async loose/strict/aiohttp)
# 3 retrieve, 3 delete and 3 remix tests name video_123, 3 get_character tests char_123, 1 list test
# after="after"; 1 create sends input_reference=b"Example data", 3 create_character, 3 edit and 3 extend
# tests video=b"Example data". One substitution each.
EXPECTED_SUBSTITUTIONS = {
    PLACEHOLDER_VIDEO: 5 * 9,
    PLACEHOLDER_CHARACTER: 5 * 3,
    PLACEHOLDER_CURSOR: 5 * 1,
    "input_reference=Example data": 5 * 1,
    "video=Example data": 5 * 9,
}


@pytest.mark.timeout(900)
def test_openai_pythons_video_tests_all_pass_against_the_gateway(harness: Harness, tmp_path: Path) -> None:
    outcome = run_the_file(harness, tmp_path)
    counts = (
        f"{len(outcome.passed)} passed, {len(outcome.failed)} failed or errored, "
        f"{sum(outcome.skipped.values())} skipped {dict(outcome.skipped)}"
    )
    assert not outcome.failed, counts + "\n" + "\n".join(outcome.failed) + "\n" + outcome.output
    # 3.63.0's file: 192 tests; its conftest skips the 4 respx-mocked async tests on the aiohttp client.
    assert (len(outcome.passed), outcome.skipped) == (188, Counter({ALLOWED_SKIP: 4})), counts
    subs = harness.proxy.substitutions
    assert Counter(s.placeholder for s in subs) == EXPECTED_SUBSTITUTIONS
    # Every placeholder id became its own real resource: no two requests shared one.
    ids = [
        s.real
        for s in subs
        if s.placeholder in (PLACEHOLDER_VIDEO, PLACEHOLDER_CURSOR, PLACEHOLDER_CHARACTER)
    ]
    assert len(ids) == len(set(ids))
    # ... so each delete test deleted its own video, and every other test's video is still there.
    auth = {"Authorization": f"Bearer {harness.proxy.key}"}
    with httpx.Client(base_url=harness.gateway, headers=auth) as http:
        for sub in subs:
            if sub.placeholder == PLACEHOLDER_VIDEO:
                status = http.get(f"/v1/videos/{sub.real}").status_code
                assert status == (404 if sub.method == "DELETE" else 200), sub
