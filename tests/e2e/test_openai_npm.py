"""The official ``openai`` npm package against the gateway: edits and extensions (of a video id and of an
uploaded MP4), characters, remix, delete and the errors, run by Node (``openai_npm_videos.cjs``).

``scripts/setup`` installs the package, pinned to ``NPM_OPENAI``, into ``.venv/node`` when npm is on the
machine; without ``node`` this test skips saying so, with ``node`` but without the package it fails.
The package declares ``engines: node >= 22``; it is run on the machine's Node (20 here), which is what a
user of that Node gets (npm only warns).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.live import live_server

from vidgate.catalog.mp4 import probe
from vidgate.gateway.config import parse_config
from vidgate.server.app import create_app

NPM_OPENAI = "7.60.0"  # scripts/setup installs exactly this version
NODE_MODULES = Path(__file__).resolve().parents[2] / ".venv" / "node" / "node_modules"
SCRIPT = Path(__file__).with_name("openai_npm_videos.cjs")
MASTER = "sk-openai-npm-master-key"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gateway(render_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = tmp_path_factory.mktemp("npm-gateway")
    root = base / "local"
    root.mkdir()
    (root / "renders").symlink_to(render_cache, target_is_directory=True)
    config = parse_config(
        {
            "model_list": [
                {"model_name": "local-1", "litellm_params": {"model": "local/local-1", "api_base": str(root)}}
            ],
            "general_settings": {
                "master_key": MASTER,
                "database_url": f"sqlite+aiosqlite:///{base / 'vidgate.db'}",
                "content_dir": str(base / "content"),
            },
        },
        environ={},
    )
    with live_server(create_app(config)) as url:
        yield url


def run_node(gateway: str, key: str) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (the openai npm package's judge needs it)")
    package = NODE_MODULES / "openai" / "package.json"
    assert package.exists(), f"{package} is missing: run scripts/setup (it installs openai@{NPM_OPENAI})"
    assert json.loads(package.read_text())["version"] == NPM_OPENAI
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env |= {
        "NODE_PATH": str(NODE_MODULES),
        "OPENAI_BASE_URL": gateway + "/v1",
        "OPENAI_API_KEY": key,
        "VIDEO_MODEL": "local-1",
    }
    run = subprocess.run([node, str(SCRIPT)], env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def seconds_of(gateway: str, key: str, video_id: str) -> float:
    reply = httpx.get(f"{gateway}/v1/videos/{video_id}/content", headers={"Authorization": f"Bearer {key}"})
    assert reply.status_code == 200, reply.text
    info = probe(reply.content)
    assert info is not None
    return info.seconds


def test_edits_extensions_and_characters_through_the_npm_package(gateway: str) -> None:
    made = httpx.post(
        gateway + "/key/generate", headers={"Authorization": f"Bearer {MASTER}"}, json={"key_alias": "npm"}
    )
    assert made.status_code == 200, made.text
    key = made.json()["key"]
    out = run_node(gateway, key)

    source = out["source"]
    assert (source["status"], source["model"], source["seconds"], source["size"]) == (
        "completed",
        "local-1",
        "4",
        "720x1280",
    )
    # An edit keeps the source's length and size, of an id or of the uploaded MP4 alike.
    for name in ("editedById", "editedUpload"):
        edited = out[name]
        assert edited["id"] != source["id"]
        assert (edited["status"], edited["seconds"], edited["size"]) == ("completed", "4", "720x1280"), name
        assert seconds_of(gateway, key, edited["id"]) == 4.0
    # An extension appends its seconds to the 4 s source.
    for name, added in (("extendedById", 4), ("extendedUpload", 8)):
        extended = out[name]
        assert (extended["status"], extended["size"]) == ("completed", "720x1280"), name
        assert seconds_of(gateway, key, extended["id"]) == 4.0 + added
    assert {m["ftyp"] for m in out["mp4s"].values()} == {"ftyp"}

    character = out["character"]
    assert character["id"].startswith("character_")
    assert character["name"] == "Fox"
    assert out["characterAgain"] == character

    assert out["remixed"]["remixedFrom"] == source["id"]
    assert out["deleted"] == {"id": out["remixed"]["id"], "object": "video.deleted", "deleted": True}
    assert out["model"] == {"id": "local-1", "object": "model", "ownedBy": "local"}
    assert "local-1" in out["listedModels"]

    # The gateway's error envelope reaches the package's own exception classes, param and code intact.
    assert out["errors"] == {
        "editUnknownId": error("NotFoundError", 404, "video_id", "video_not_found"),
        "editNotAVideo": error("BadRequestError", 400, "video", "invalid_video_format"),
        "extendBadSeconds": error("BadRequestError", 400, "seconds", "invalid_value"),
        "unknownCharacter": error("NotFoundError", 404, "character_id", "character_not_found"),
        "retrieveDeleted": error("NotFoundError", 404, "video_id", "video_not_found"),
        "unknownModel": error("NotFoundError", 404, "model", "model_not_found"),
    }


def error(name: str, status: int, param: str, code: str) -> dict[str, Any]:
    return {"name": name, "status": status, "param": param, "code": code}
