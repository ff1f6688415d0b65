"""URLs a caller gives for someone else to call or fetch: one syntax and host policy.

Two kinds: the per-job ``callback_url`` (the gateway POSTs to it) and reference videos given by URL
(``input_references[i].video_url.url``: the provider fetches them, never the gateway). Either way a
caller could aim a server at an address only that server can reach, so both follow the same rules:

- an allowed scheme, a host, no ``user:password@``, no fragment, printable ASCII, bounded length;
- unless the operator allows private addresses: no ``localhost``, no ``*.localhost``, ``*.local``,
  ``*.internal`` or ``*.localdomain`` name, and no IP literal outside the global unicast space
  (private, loopback, link-local incl. cloud metadata 169.254.169.254, CGNAT, multicast, reserved,
  IPv4-mapped forms of those).

Pure (no DNS): the worker resolves callback hosts again before each delivery (``worker.callbacks``); a
reference video's host is resolved by the provider, outside the gateway.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from urllib.parse import urlsplit

from vidgate.errors import BadRequestError

_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain")


def private_ip(host: str) -> bool:
    """Whether ``host`` (an IP literal, brackets stripped) is outside the global unicast space."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def private_name(host: str) -> bool:
    """Names that only ever mean this machine or its network."""
    lowered = host.lower().rstrip(".")
    return lowered == "localhost" or lowered.endswith(_PRIVATE_SUFFIXES)


def check_url(
    value: str,
    *,
    schemes: tuple[str, ...],
    max_length: int,
    bad: Callable[[str], BadRequestError],
) -> str:
    """``value``'s host if it is a well-formed URL of ``schemes``; else ``bad(reason)`` is raised."""
    if len(value) > max_length:
        raise bad(f"at most {max_length} characters are allowed, got {len(value)}.")
    if not value.isascii() or any(ch.isspace() or not ch.isprintable() for ch in value):
        raise bad("expected an ASCII URL without spaces (percent-encode other characters).")
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018  # a malformed port raises here
    except ValueError as exc:
        raise bad(f"not a URL ({exc}).") from None
    if parts.scheme not in schemes:
        raise bad(f"expected an {' or '.join(f'{s}://' for s in schemes)} URL.")
    if not host:
        raise bad("the URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise bad("credentials in the URL are not allowed.")
    if parts.fragment:
        raise bad("a fragment (#...) is not allowed.")
    return host


def is_private_host(host: str) -> bool:
    """Whether ``host`` names this machine or a private network (by name or IP literal)."""
    return private_name(host) or private_ip(host)
