"""``callback_url``: a per-job webhook (OpenRouter's field), checked before anything is started.

The gateway POSTs to this URL, so it is an SSRF vector: a caller could aim the gateway at an address
only the gateway can reach. The policy:

- http(s) only, a host, no user:password, no fragment, at most ``MAX_CALLBACK_URL`` characters;
- unless ``general_settings.allow_private_callback_urls`` is true: no ``localhost``, no ``*.localhost``,
  ``*.local`` or ``*.internal`` name, and no IP literal outside the global unicast space (private,
  loopback, link-local incl. cloud metadata 169.254.169.254, CGNAT, multicast, reserved, IPv4-mapped
  forms of those). The worker checks the name's DNS answers again just before each delivery
  (``worker.callbacks``), so a public name that resolves to a private address is refused too.

Events are signed with ``general_settings.webhook_secret`` (Standard Webhooks, as the global
webhook): one signing secret per gateway, as OpenRouter has one per workspace. Without a
``webhook_secret`` a ``callback_url`` is a 400 (an unsigned event could not be trusted).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from vidgate.errors import BadRequestError

MAX_CALLBACK_URL = 2048
_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain")
PARAM = "callback_url"


def _bad(message: str) -> BadRequestError:
    return BadRequestError(f"Invalid 'callback_url': {message}", param=PARAM, code="invalid_callback_url")


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


def check_callback_url(value: object, *, allow_private: bool) -> str:
    """``value`` if it is a callback URL the gateway may POST to; else a 400 naming ``callback_url``."""
    if not isinstance(value, str):
        raise BadRequestError(
            "Invalid type for 'callback_url': expected a string.", param=PARAM, code="invalid_type"
        )
    if len(value) > MAX_CALLBACK_URL:
        raise _bad(f"at most {MAX_CALLBACK_URL} characters are allowed, got {len(value)}.")
    if not value.isascii() or any(ch.isspace() or not ch.isprintable() for ch in value):
        raise _bad("expected an ASCII URL without spaces (percent-encode other characters).")
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018  # a malformed port raises here
    except ValueError as exc:
        raise _bad(f"not a URL ({exc}).") from None
    if parts.scheme not in ("http", "https"):
        raise _bad("expected an http:// or https:// URL.")
    if not host:
        raise _bad("the URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise _bad("credentials in the URL are not allowed (events are signed; verify the signature).")
    if parts.fragment:
        raise _bad("a fragment (#...) is not allowed.")
    if not allow_private and (private_name(host) or private_ip(host)):
        raise _bad(
            f"'{host}' is a private, loopback or link-local address; callbacks go to public hosts only "
            "(an operator can allow private ones with general_settings.allow_private_callback_urls)."
        )
    return value
