"""The web dashboard at ``/ui`` (gallery, playground, admin), a client of the gateway's own routes."""

from __future__ import annotations

from vidgate.server.endpoint import Endpoint
from vidgate.server.ui import media, pages


def endpoints() -> list[Endpoint]:
    return [*pages.endpoints(), *media.endpoints()]
