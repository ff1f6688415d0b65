"""The web dashboard at ``/ui`` (gallery, playground, admin), a client of the gateway's own routes."""

from __future__ import annotations

from starlette.routing import Route

from vidgate.server.ui import media, pages


def routes() -> list[Route]:
    return [*pages.routes(), *media.routes()]
