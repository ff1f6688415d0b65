"""``vidgate serve``: run the gateway (uvicorn; uvloop and httptools when installed).

With no ``--config`` it serves every ``local/*`` catalogue model from a SQLite file ``./vidgate.db``
with a master key generated for this run and printed once: only the running process knows it (nothing
is persisted), so a restart without a config prints a new one. Give ``general_settings.master_key`` in
a config to keep one.
"""

from __future__ import annotations

import copy
import os
import socket
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from vidgate import settings
from vidgate.cli.common import fail, require_modules
from vidgate.gateway.config import (
    ConfigError,
    GatewayConfig,
    default_config,
    generate_master_key,
    load_config,
)

CONFIG_ENV = settings.CONFIG_FILE
MASTER_KEY_ENV = settings.MASTER_KEY
APP_FACTORY = "vidgate.server.app:app_from_env"
# uvicorn's HTTP/1.1 protocol answering what its parser refuses in the API's JSON envelope
HTTP_PROTOCOL = "vidgate.server.http_protocol:GatewayHttpProtocol"
# What the gateway imports beyond the client (the `server` extra). A provider that needs more (the local
# renderer) says so when the config loads it.
SERVER_MODULES = (
    "uvicorn",
    "starlette",
    "multipart",
    "sqlalchemy",
    "alembic",
    "redis",
    "prometheus_client",
    "orjson",
    "opentelemetry",
)


class LogLevel(StrEnum):
    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


def load(config_path: Path | None) -> GatewayConfig:
    """The config file's config, or the default one. Without ``general_settings.master_key`` the master
    key is ``VIDGATE_MASTER_KEY`` if set, else generated for this run (and printed once)."""
    env_key = os.environ.get(MASTER_KEY_ENV) or None
    if config_path is None:
        return default_config(master_key=env_key)
    config = load_config(config_path)
    if config.master_key is None:
        key = env_key or generate_master_key()
        config = config.model_copy(update={"master_key": key, "master_key_generated": env_key is None})
    return config


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging config plus vidgate's: access lines are JSON, one per request, on stderr."""
    import uvicorn.config  # the `server` extra; imported here so the client CLI never needs it

    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["formatters"]["json_line"] = {"format": "%(message)s"}
    config["formatters"]["plain"] = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    config["handlers"]["vidgate_access"] = {
        "class": "vidgate.server.logstream.LoopBatchingStreamHandler",
        "formatter": "json_line",
        "stream": "ext://sys.stderr",
    }
    config["handlers"]["vidgate"] = {
        "class": "logging.StreamHandler",
        "formatter": "plain",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["vidgate.access"] = {
        "handlers": ["vidgate_access"],
        "level": level.upper(),
        "propagate": False,
    }
    config["loggers"]["vidgate"] = {"handlers": ["vidgate"], "level": level.upper(), "propagate": False}
    return config


def serve(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Config file (model_list, general_settings, ...).")
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "0.0.0.0",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 4000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (each runs the API and the poller).")
    ] = 1,
    log_level: Annotated[
        LogLevel, typer.Option(help="info logs one JSON line per request; warning logs problems only.")
    ] = LogLevel.info,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            envvar="FORWARDED_ALLOW_IPS",
            help="Proxies trusted to set X-Forwarded-Proto and X-Forwarded-For (comma-separated "
            "addresses or networks, '*' for any): the gateway's redirects then keep the client's "
            "scheme. Unset: the headers are ignored.",
        ),
    ] = None,
) -> None:
    """Run the gateway: the OpenAI Videos API with virtual keys, budgets and durable jobs."""
    err = Console(stderr=True)
    require_modules(err, "`vidgate serve`", SERVER_MODULES)
    try:
        gateway_config = load(config)
    except ConfigError as exc:
        fail(err, exc, 2)
    busy = port_in_use(host, port)
    if busy:
        fail(err, f"--port {port}: cannot listen on {host}:{port} ({busy}); pick another with --port N.", 2)
    for warning in gateway_config.startup_warnings():
        typer.secho(f"warning: {warning}", err=True, fg=typer.colors.YELLOW)
    if gateway_config.master_key_generated and gateway_config.master_key:
        typer.echo(
            f"Master key (shown once, not stored; a restart makes a new one): {gateway_config.master_key}"
        )
        os.environ[MASTER_KEY_ENV] = gateway_config.master_key
    where = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    names = sorted({d.model_name for d in gateway_config.deployments})
    typer.echo(f"vidgate gateway on {where}  (models: {', '.join(names) or 'none'})")
    typer.echo(f"database: {database_location(gateway_config.database_url)}")
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": log_config(log_level.value),
        "log_level": log_level.value,
        "access_log": False,
        # Off unless proxies are named: nothing else in the gateway reads the client address or scheme
        # (its log lines carry neither), and uvicorn's check cost a cached status poll ~6 µs of CPU.
        "proxy_headers": forwarded_allow_ips is not None,
        "forwarded_allow_ips": forwarded_allow_ips,
        "timeout_graceful_shutdown": 10,
        "http": HTTP_PROTOCOL,
    }
    # The server builds its app from the same config (and master key) in each worker process; the CLI
    # names it by import string (cli and server are sibling layers and never import each other).
    if config is not None:
        os.environ[CONFIG_ENV] = str(config.resolve())
    else:
        os.environ.pop(CONFIG_ENV, None)
    import uvicorn

    uvicorn.run(APP_FACTORY, factory=True, workers=workers if workers > 1 else None, **common)


def port_in_use(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on (None when it can), checked before anything is printed.

    SO_REUSEADDR as uvicorn sets it, so a port left in TIME_WAIT by a previous run counts as free."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def database_location(url: str) -> str:
    """Where the data lives: a SQLite file's absolute path, else the URL without its password."""
    scheme, _, rest = url.partition("://")
    if scheme.startswith("sqlite"):
        path = rest[1:] if rest.startswith("/") else rest  # sqlite:///rel.db, sqlite:////abs.db
        path = path.split("?", 1)[0]
        if path in ("", ":memory:"):
            return "SQLite in memory (nothing is kept after exit)"
        return f"SQLite file {Path(path).expanduser().resolve()}"
    if "@" in rest:  # never print a password
        rest = rest.split("@", 1)[1]
    return f"{scheme}://{rest}"


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
