"""Every SDK code sample in the seed docs, run unchanged (``litellm`` -> ``vidgate``) against emulators.

Each python block of ``../shared/seeds/*.txt`` that uses the SDK (names ``litellm`` or one of its video
functions) runs in a subprocess with a fresh temp cwd, env vars pointing every provider at an emulator
on loopback, and ``tests/support/seed_runner.py`` capping sleeps (see there). The files the snippets
open (``path/to/image.jpg``, ``start_frame.jpg``) are created as real JPEGs of the size they ask for.

Page context: a doc page reads as one session, so a block runs after the top-level import lines of the
blocks above it on its page (several blocks use names imported earlier: seed 003 "Optional Parameters"
and seed 000 "API key errors" use ``video_generation``, seed 002 "Video with Input Reference" and "Cost
Calculation" use ``litellm``, seed 000 "Error Handling" uses ``time``). Nothing else is added.

The proxy-mode snippet (``litellm.api_base = "http://0.0.0.0:4000"``, model ``veo-3``) runs against the
vidgate gateway itself (``vidgate.server``), configured as the seed's proxy config says and backed by the
Gemini emulator; ``0.0.0.0`` is mapped to it like the Azure host.

Each snippet has one expected outcome in ``EXPECTED``; a snippet with no entry fails the suite, so a new
seed cannot go untested. Outcomes other than "writes a playable MP4" / "runs" are seed defects, and say
why: API signatures (not code), un-awaited coroutines, a placeholder id, a remix without ``video_id``.
"""

from __future__ import annotations

import ast
import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tests.support.images import write_image
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.emulators.common import EmulatorSettings
from vidgate.gateway import keys as keylib
from vidgate.gateway.config import parse_config
from vidgate.gateway.records import KeyRecord
from vidgate.providers.azure import emulator as azure
from vidgate.providers.gemini import emulator as gemini
from vidgate.providers.openai import emulator as openai
from vidgate.providers.vertex_ai import emulator as vertex
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

SEEDS_DIR = Path(os.environ.get("VIDGATE_SEEDS_DIR") or Path(__file__).parents[3] / "shared" / "seeds")
RUNNER = Path(__file__).parents[1] / "support" / "seed_runner.py"
SDK_NAMES = re.compile(
    r"\blitellm\b|\ba?(video_(generation|status|content|retrieval|retrieve|remix|list|delete)|a?create_video)\("
)
IMPORT_LINE = re.compile(r"^(import \S|from \S+ import )")
SNIPPET_TIMEOUT = 180


@dataclass(frozen=True)
class Snippet:
    seed: str  # "000"
    heading: str
    code: str
    context: tuple[str, ...]  # import lines of the blocks above it on the same page

    @property
    def key(self) -> str:
        return f"{self.seed}:{self.heading}"


@dataclass(frozen=True)
class Expect:
    """``kind``: mp4 (writes ``files``: playable MP4s of ``size`` and ``seconds``), runs, fails (a seed
    defect, named in ``why``), or signature (an API signature, asserted not to be code)."""

    kind: str
    files: tuple[str, ...] = ()
    size: str | None = None
    seconds: float | None = None
    stdout: tuple[str, ...] = ()
    stderr: tuple[str, ...] = ()
    why: str = ""
    inputs: dict[str, str] = field(default_factory=dict)  # file -> "WxH" image to create first


ASYNC_NOT_AWAITED = (
    "acreate_video is a coroutine function; the seed calls it without await (cannot work in any library)"
)
EXPECTED: dict[str, Expect] = {
    # ---- seed 000: Gemini Veo ----------------------------------------------------------------
    "000:Basic Usage": Expect("mp4", ("generated_video.mp4",), "1280x720", 8),
    "000:Complete Workflow Example": Expect("mp4", ("sunset_lake.mp4",), "1280x720", 8),
    "000:Async Usage": Expect("mp4", ("video.mp4",), "1280x720", 8),
    # proxy mode: litellm.api_base = "http://0.0.0.0:4000" and model "veo-3", served by the vidgate gateway
    "000:Making Requests": Expect("mp4", ("video.mp4",), "1280x720", 8),
    "000:Cost Tracking": Expect("runs"),
    "000:Error Handling": Expect("mp4", ("video.mp4",), "1280x720", 8),
    "000:Video not found when downloading": Expect(
        "fails",
        stderr=("NameError: name 'video_id' is not defined",),
        why="fragment: uses a video_id it never defines",
    ),
    "000:API key errors": Expect("runs"),
    # ---- seed 002: OpenAI (async API) --------------------------------------------------------
    "002:Basic Video Generation": Expect(
        "fails", stderr=("AttributeError: 'coroutine' object has no attribute 'id'",), why=ASYNC_NOT_AWAITED
    ),
    "002:Video with Input Reference": Expect(
        "runs",
        stderr=("was never awaited",),
        why=ASYNC_NOT_AWAITED + " (no call is made)",
        inputs={"start_frame.jpg": "1280x720"},
    ),
    "002:Create Video": Expect("signature", why="an API signature with type annotations, not code"),
    "002:Retrieve Video": Expect("signature", why="an API signature, not code"),
    "002:Download Video Content": Expect("signature", why="an API signature, not code"),
    "002:Delete Video": Expect("signature", why="an API signature, not code"),
    "002:List Videos": Expect("signature", why="an API signature, not code"),
    "002:Cost Calculation": Expect(
        "fails",
        stderr=("AttributeError: 'coroutine' object has no attribute 'seconds'",),
        why=ASYNC_NOT_AWAITED,
    ),
    "002:Error Handling": Expect(
        "runs", stderr=("was never awaited",), why=ASYNC_NOT_AWAITED + " (no call is made)"
    ),
    "002:Debug Mode": Expect(
        "runs", stderr=("was never awaited",), why=ASYNC_NOT_AWAITED + " (no call is made)"
    ),
    "002:Complete Workflow": Expect(
        "mp4",
        ("generated_video.mp4",),
        "1280x720",
        8,
        stdout=("Video downloaded successfully!", "Video deleted"),
    ),
    "002:Batch Video Generation": Expect(
        "runs", stdout=("Video 1: video_", "Video 2: video_", "Video 3: video_")
    ),
    # ---- seed 003: /videos (OpenAI + Azure) --------------------------------------------------
    "003:Quick Start": Expect("mp4", ("generated_video.mp4",), "720x1280", 8),
    "003:Async Usage": Expect("mp4", ("generated_video.mp4",), "720x1280", 8),
    "003:Video Status Checking": Expect(
        "fails",
        stderr=("NotFoundError", "video_1234567890"),
        why="polls the placeholder id 'video_1234567890', which no provider has",
    ),
    "003:Video Generation with Reference Image": Expect(
        "runs", stdout=("Video ID: video_",), inputs={"path/to/image.jpg": "720x1280"}
    ),
    "003:Video Remix (Video Editing)": Expect(
        "fails",
        stderr=("BadRequestError", "param: video_id"),
        why="calls video_remix without the video_id of the video to remix",
        inputs={"path/to/image.jpg": "720x1280"},
    ),
    "003:Optional Parameters": Expect("runs", inputs={"path/to/image.jpg": "720x1280"}),
    "003:Azure Video Generation": Expect("runs", stdout=("Video ID: video_",)),
}


def extract(path: Path) -> Iterator[Snippet]:
    """The python blocks of one seed file that use the SDK, with their heading and page context."""
    seed = path.name[:3]
    heading = ""
    imports: list[str] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif line.strip().startswith("```"):  # a fenced block: ``#`` lines inside it are comments
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), len(lines))
            code = "\n".join(lines[i + 1 : end]) + "\n"
            if line.strip() == "```python" and SDK_NAMES.search(code):
                yield Snippet(seed, heading, code, tuple(imports))
            if line.strip() == "```python":
                imports.extend(ln for ln in code.splitlines() if IMPORT_LINE.match(ln))
            i = end
        i += 1


def all_snippets() -> list[Snippet]:
    if not SEEDS_DIR.is_dir():
        return []
    return [s for path in sorted(SEEDS_DIR.glob("*.txt")) for s in extract(path)]


SNIPPETS = all_snippets()
needs_seeds = pytest.mark.skipif(
    not SEEDS_DIR.is_dir(), reason=f"seed docs not found at {SEEDS_DIR} (VIDGATE_SEEDS_DIR)"
)


def to_vidgate(text: str) -> str:
    return re.sub(r"\blitellm\b", "vidgate", text)


def proxy_gateway(gemini_url: str) -> Any:
    """The gateway the proxy-mode snippet talks to, set up as seed 000 describes: ``veo-3`` ->
    ``gemini/veo-3.0-generate-preview`` (here the Gemini emulator), and a virtual key whose secret is the
    seed's ``sk-1234`` (vidgate generates secrets and wants 8+ character master keys, so the key is put
    in the key store directly, as an operator importing an existing key would)."""
    model = {
        "model": "gemini/veo-3.0-generate-preview",
        "allow_retired": True,
        "api_key": "seed-key",
        "api_base": gemini_url,
    }
    config = parse_config(
        {
            "model_list": [{"model_name": "veo-3", "litellm_params": model}],
            "general_settings": {"master_key": "sk-seed-master-key"},
        },
        environ={},
    )
    stores = MemoryStores()
    secret = "sk-1234"
    record = KeyRecord(
        id=keylib.new_key_id(),
        key_hash=keylib.hash_secret(secret),
        key_prefix=secret[: keylib.DISPLAY_PREFIX_CHARS],
        created_at=0,
    )
    asyncio.run(stores.keys.create(record))
    return create_app(config, stores=stores)


@pytest.fixture(scope="module")
def emulator_env(render_cache: Path) -> Iterator[dict[str, str]]:
    settings = EmulatorSettings(processing_seconds=1.0, poll_after_ms=200, cache_dir=render_cache)
    with (
        live_server(openai.create_app(settings)) as openai_url,
        live_server(azure.create_app(settings)) as azure_url,
        live_server(gemini.create_app(settings)) as gemini_url,
        live_server(vertex.create_app(settings)) as vertex_url,
        live_server(proxy_gateway(gemini_url)) as gateway_url,
    ):
        hosts = {"your-resource.openai.azure.com": azure_url, "0.0.0.0": gateway_url}
        yield {
            "OPENAI_API_KEY": "sk-seed",
            "OPENAI_BASE_URL": f"{openai_url}/v1",
            "GEMINI_API_KEY": "seed-key",
            "GEMINI_API_BASE": gemini_url,
            "AZURE_OPENAI_API_KEY": "seed-key",
            "AZURE_OPENAI_API_BASE": azure_url,
            "AZURE_OPENAI_API_VERSION": "preview",
            "VERTEXAI_PROJECT": "seed-project",
            "VERTEXAI_LOCATION": "us-central1",
            "VERTEXAI_API_BASE": vertex_url,
            "VERTEXAI_ACCESS_TOKEN": "seed-token",
            "VIDGATE_SEED_HOSTS": ",".join(f"{host}={url}" for host, url in hosts.items()),
            "VIDGATE_SEED_MAX_SLEEP": "0.2",
        }


def run_snippet(snippet: Snippet, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    source = "".join(f"{to_vidgate(line)}\n" for line in snippet.context) + to_vidgate(snippet.code)
    script = cwd / "snippet.py"
    script.write_text(source, encoding="utf-8")
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "AZURE_", "GEMINI_", "GOOGLE_", "VERTEX"))
    }
    return subprocess.run(
        [sys.executable, str(RUNNER), str(script)],
        cwd=cwd,
        env={**base, **env, "PYTHONPATH": str(Path(__file__).parents[2] / "src")},
        capture_output=True,
        text=True,
        timeout=SNIPPET_TIMEOUT,
        check=False,
    )


@needs_seeds
def test_every_sdk_snippet_has_an_expected_outcome() -> None:
    found = [s.key for s in SNIPPETS]
    assert len(found) == len(set(found)), "two snippets share a heading: make keys unique"
    assert sorted(set(found) - set(EXPECTED)) == [], "new seed snippets: classify them in EXPECTED"
    assert sorted(set(EXPECTED) - set(found)) == [], "EXPECTED names snippets the seeds no longer have"


@needs_seeds
@pytest.mark.parametrize("snippet", SNIPPETS, ids=lambda s: s.key)
def test_seed_snippet(snippet: Snippet, emulator_env: dict[str, str], tmp_path: Path) -> None:
    expect = EXPECTED.get(snippet.key)
    if expect is None:
        pytest.fail(f"no expected outcome for {snippet.key}")
    if expect.kind == "signature":
        with pytest.raises(SyntaxError):
            ast.parse(to_vidgate(snippet.code))
        return
    for name, size in expect.inputs.items():
        width, height = (int(v) for v in size.split("x"))
        write_image(tmp_path / name, width, height)
    result = run_snippet(snippet, tmp_path, emulator_env)
    detail = f"\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    if expect.kind == "fails":
        assert result.returncode == 1, detail
    else:
        assert result.returncode == 0, detail
    for text in expect.stdout:
        assert text in result.stdout, detail
    for text in expect.stderr:
        assert text in result.stderr, detail
    for name in expect.files:
        info = probe(tmp_path / name)
        assert info.frames > 0
        if expect.size is not None:
            assert f"{info.width}x{info.height}" == expect.size
        if expect.seconds is not None:
            assert info.duration == pytest.approx(expect.seconds, abs=0.05)
