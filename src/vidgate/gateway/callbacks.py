"""``callback_url``: a per-job webhook (OpenRouter's field), checked before anything is started.

The gateway POSTs to this URL, so it is an SSRF vector: a caller could aim the gateway at an address
only the gateway can reach. The policy (``catalog.urls``, shared with reference videos given by URL):

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

from vidgate.catalog.urls import check_url, is_private_host, private_ip, private_name
from vidgate.errors import BadRequestError

MAX_CALLBACK_URL = 2048
PARAM = "callback_url"
__all__ = ["MAX_CALLBACK_URL", "PARAM", "check_callback_url", "private_ip", "private_name"]


def _bad(message: str) -> BadRequestError:
    return BadRequestError(f"Invalid 'callback_url': {message}", param=PARAM, code="invalid_callback_url")


def check_callback_url(value: object, *, allow_private: bool) -> str:
    """``value`` if it is a callback URL the gateway may POST to; else a 400 naming ``callback_url``
    (the syntax and host policy of ``catalog.urls``, shared with reference videos given by URL)."""
    if not isinstance(value, str):
        raise BadRequestError(
            "Invalid type for 'callback_url': expected a string.", param=PARAM, code="invalid_type"
        )
    host = check_url(value, schemes=("http", "https"), max_length=MAX_CALLBACK_URL, bad=_bad)
    if not allow_private and is_private_host(host):
        raise _bad(
            f"'{host}' is a private, loopback or link-local address; callbacks go to public hosts only "
            "(an operator can allow private ones with general_settings.allow_private_callback_urls)."
        )
    return value
