"""A live gateway (uvicorn on a free port, in a thread) for the browser tests, and headless Debian
chromium driven by Playwright (``executable_path``: Playwright's own browser download is never used)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server.conftest import MASTER, auth, gateway_config

from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[3] / "artifacts" / "ui-screenshots"


@dataclass
class LiveGateway:
    base_url: str

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30)

    def new_key(self, **fields: Any) -> str:
        with self.api() as client:
            reply = client.post("/key/generate", json=fields, headers=auth(MASTER))
        assert reply.status_code == 200, reply.text
        secret: str = reply.json()["key"]
        return secret


@pytest.fixture(scope="module")
def live_gateway(render_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    import uvicorn

    root = tmp_path_factory.mktemp("ui-local")
    (root / "renders").symlink_to(render_cache, target_is_directory=True)
    previous = os.environ.get("VIDGATE_LOCAL_DELAY")
    os.environ["VIDGATE_LOCAL_DELAY"] = "1.5"  # long enough to see a job run in the gallery
    app = create_app(gateway_config(root), stores=MemoryStores(), run_worker=True)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the gateway did not start")
            threading.Event().wait(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield LiveGateway(base_url=f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        if previous is None:
            os.environ.pop("VIDGATE_LOCAL_DELAY", None)
        else:
            os.environ["VIDGATE_LOCAL_DELAY"] = previous


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if shutil.which("chromium") is None and not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run `bash scripts/setup` (as root it installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
