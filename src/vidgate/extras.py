"""Optional extras: which ``pip install 'vidgate[...]'`` brings a missing third-party module.

``pip install vidgate`` is the SDK and the CLI client only. The gateway (``[server]``), the local
renderer (``[local]``) and Google default credentials (``[google]``) are extras, imported only by the
code paths that need them, so a missing one is reported with the command that installs it.
"""

from __future__ import annotations

EXTRA_OF_MODULE: dict[str, str] = {
    "av": "local",
    "numpy": "local",
    "PIL": "local",
    "starlette": "server",
    "uvicorn": "server",
    "multipart": "server",
    "python_multipart": "server",
    "sqlalchemy": "server",
    "alembic": "server",
    "asyncpg": "server",
    "redis": "server",
    "prometheus_client": "server",
    "orjson": "server",
    "opentelemetry": "server",
    "cryptography": "server",
    "google": "google",
    "requests": "google",
}


class MissingExtraError(ImportError):
    """A feature needs an optional extra that is not installed; the message says how to install it."""

    def __init__(self, what: str, extra: str, module: str) -> None:
        self.extra = extra
        self.module = module
        super().__init__(
            f"{what} needs the '{extra}' extra, which is not installed (no module '{module}'): "
            f"pip install 'vidgate[{extra}]'",
            name=module,
        )


def extra_for(exc: ImportError) -> tuple[str, str] | None:
    """(extra, top-level module) when ``exc`` is a missing module that an extra provides."""
    name = (exc.name or "").split(".", 1)[0]
    extra = EXTRA_OF_MODULE.get(name)
    return (extra, name) if extra is not None else None


def explain(exc: ImportError, what: str) -> ImportError:
    """``exc`` as a MissingExtraError naming the extra, when an extra provides the missing module."""
    if isinstance(exc, MissingExtraError):
        return exc
    found = extra_for(exc)
    if found is None:
        return exc
    return MissingExtraError(what, *found)
