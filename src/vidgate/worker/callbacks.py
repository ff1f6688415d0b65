"""The delivery-time half of the ``callback_url`` policy (``gateway.callbacks``): just before an event
is POSTed, the host's DNS answers are checked again, so a public-looking name that resolves to a
private, loopback or link-local address (DNS rebinding included, as far as one lookup can tell) is
not called. Skipped when the operator allows private callback URLs."""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

from vidgate.gateway.callbacks import private_ip, private_name


async def private_destination(url: str) -> str | None:
    """The private address ``url``'s host is or resolves to, else None. A name that does not resolve
    is not judged here: the POST then fails to connect and is retried like any connection error."""
    host = urlsplit(url).hostname
    if host is None:
        return "no host"
    if private_name(host) or private_ip(host):
        return host
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return None
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]  # an IPv6 scope id is not part of the address
        if private_ip(address):
            return address
    return None
