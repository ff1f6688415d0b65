"""Packaging: ``pip install vidgate`` is the SDK and CLI client; the gateway and the renderer are extras.

The metadata test reads the installed distribution's requirements (the wheel's METADATA); the import
test runs the client in a subprocess where the server and renderer packages cannot be imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from importlib.resources import files
from pathlib import Path

from packaging.requirements import Requirement

SERVER_OR_RENDERER = {
    "av",
    "numpy",
    "pillow",
    "sqlalchemy",
    "redis",
    "uvicorn",
    "asyncpg",
    "prometheus-client",
    "starlette",
    "alembic",
    "orjson",
    "python-multipart",
    "uvloop",
    "httptools",
    "opentelemetry-api",
    "opentelemetry-sdk",
    "opentelemetry-exporter-otlp-proto-http",
    "cryptography",
}
BLOCKED_MODULES = [
    "av", "numpy", "PIL", "sqlalchemy", "redis", "uvicorn", "asyncpg", "prometheus_client", "starlette",
    "alembic", "orjson", "multipart", "python_multipart", "uvloop", "httptools", "google", "opentelemetry",
    "cryptography",
]  # fmt: skip


def _requirements() -> dict[str | None, set[str]]:
    """Requirement names per extra (None: the base install)."""
    out: dict[str | None, set[str]] = {}
    for line in metadata.requires("vidgate") or []:
        req = Requirement(line)
        extra = None
        if req.marker is not None:
            for candidate in ("server", "local", "google", "all", "dev"):
                if req.marker.evaluate({"extra": candidate}) and not req.marker.evaluate({"extra": ""}):
                    extra = candidate
                    break
        out.setdefault(extra, set()).add(req.name.lower())
    return out


def test_the_base_install_is_the_client_only() -> None:
    base = _requirements()[None]
    assert base == {"httpx", "anyio", "pydantic", "pyyaml", "rich", "typer", "pyjwt"}
    assert not base & SERVER_OR_RENDERER


def test_extras_add_the_gateway_and_the_renderer() -> None:
    reqs = _requirements()
    assert {"av", "numpy", "pillow"} == reqs["local"]
    assert {"starlette", "uvicorn", "sqlalchemy", "alembic", "asyncpg", "redis", "prometheus-client"} <= reqs[
        "server"
    ]
    assert {"opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http"} <= reqs["server"]
    assert reqs["local"] <= reqs["server"]  # vidgate[local]: the default config serves the local renderer
    assert reqs["all"] == reqs["server"] | reqs["local"] | reqs["google"]
    assert reqs["all"] <= reqs["dev"]  # scripts/setup installs .[dev]: everything
    declared = set().union(*reqs.values())
    assert not {"fastapi", "aiosqlite"} & declared  # declared once, never imported


def test_the_package_is_typed() -> None:
    assert files("vidgate").joinpath("py.typed").is_file()


CLIENT_SCRIPT = """
import importlib.abc, json, sys
BLOCKED = set(json.loads(sys.argv[1]))

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name=name)
        return None

sys.meta_path.insert(0, Refuse())
import vidgate
from vidgate.cli.main import app
from typer.testing import CliRunner

runner = CliRunner()
out = {"version": vidgate.__version__, "has_client": hasattr(vidgate, "Client")}
for name, args in {
    "help": ["--help"],
    "videos_help": ["videos", "--help"],
    "models": ["models", "--json"],
    "serve": ["serve"],
    "emulate": ["emulate", "openai"],
    "local": ["generate", "x", "-m", "local/local-1", "-o", sys.argv[2]],
    "gateway": ["videos", "list", "--api-base", sys.argv[3], "--api-key", "sk-test"],
}.items():
    result = runner.invoke(app, args)
    out[name] = {"code": result.exit_code, "stdout": result.stdout, "stderr": result.stderr[-2000:]}
out["leaked"] = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
print(json.dumps(out))
"""


def test_the_client_works_without_server_or_renderer_packages(tmp_path: Path) -> None:
    """``import vidgate``, ``--help``, ``models`` and the gateway client work; ``serve``, ``emulate`` and
    the local renderer name the extra to install. (The gateway address is closed: the client still
    gets as far as the network, with an error that names the address.)"""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            CLIENT_SCRIPT,
            json.dumps(BLOCKED_MODULES),
            str(tmp_path / "o.mp4"),
            "http://127.0.0.1:9",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["has_client"]
    assert out["leaked"] == []
    assert out["help"]["code"] == 0
    assert "videos" in out["help"]["stdout"]
    assert out["videos_help"]["code"] == 0
    for command in ("list", "get", "wait", "download", "remix", "delete"):
        assert command in out["videos_help"]["stdout"]
    assert out["models"]["code"] == 0
    assert any(m["id"] == "openai/sora-2" for m in json.loads(out["models"]["stdout"])["data"])
    assert out["serve"]["code"] == 2
    assert "pip install 'vidgate[server]'" in out["serve"]["stderr"]
    assert out["emulate"]["code"] == 2
    assert "pip install 'vidgate[server]'" in out["emulate"]["stderr"]
    assert out["local"]["code"] == 1
    assert "pip install 'vidgate[local]'" in out["local"]["stderr"]
    assert out["gateway"]["code"] == 1
    assert "127.0.0.1:9" in out["gateway"]["stderr"]
