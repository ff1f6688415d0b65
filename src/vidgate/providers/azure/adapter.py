"""Azure OpenAI Sora 2: the OpenAI-shaped v1 surface ``{endpoint}/openai/v1/videos``.

Same operations and bodies as ``openai`` (the subclass changes only URL, auth and query). ``model`` is
the deployment name. ``api_base`` is the resource endpoint (``https://RESOURCE.openai.azure.com``, what
``AzureOpenAI(azure_endpoint=...)`` takes); a base that already ends in ``/openai`` or ``/openai/v1``
is accepted as is.

``api-version`` on the v1 routes: Azure accepts only ``preview`` and ``v1`` there (dated versions such
as ``2024-02-15-preview`` belong to the legacy ``/openai/deployments/...`` routes and are refused by
the v1 routes). So: ``preview`` when none is configured; ``preview``/``v1`` are sent as given; a dated
version (what many setups, and the seeds, put in ``AZURE_OPENAI_API_VERSION``) is replaced by
``preview`` with a logged warning naming both values (once per value), instead of a request Azure
would reject; anything else is a BadRequestError naming ``api_version`` and the accepted values.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import ClassVar

from vidgate.errors import AuthenticationError, BadRequestError, invalid_value
from vidgate.providers.base import Credentials
from vidgate.providers.openai.adapter import OpenAIProvider

log = logging.getLogger(__name__)

V1_API_VERSIONS: tuple[str, ...] = ("preview", "v1")
DEFAULT_API_VERSION = "preview"
_DATED = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")
_warned: set[str] = set()
_warned_lock = threading.Lock()


def v1_api_version(configured: str | None) -> str:
    """The ``api-version`` to send on the v1 routes for a configured value (see the module docstring)."""
    value = (configured or "").strip()
    if not value:
        return DEFAULT_API_VERSION
    if value in V1_API_VERSIONS:
        return value
    if _DATED.fullmatch(value):
        with _warned_lock:
            first = value not in _warned
            _warned.add(value)
        if first:
            log.warning(
                "Azure api_version '%s' is a dated version of the legacy deployments API; the v1 "
                "videos routes accept only %s, so vidgate sends api-version=%s. "
                "Set AZURE_OPENAI_API_VERSION=preview (or v1) to silence this.",
                value,
                " and ".join(repr(v) for v in V1_API_VERSIONS),
                DEFAULT_API_VERSION,
            )
        return DEFAULT_API_VERSION
    raise invalid_value("api_version", value, list(V1_API_VERSIONS))


class AzureProvider(OpenAIProvider):
    name: ClassVar[str] = "azure"

    def root(self, creds: Credentials) -> str:
        base = (creds.api_base or "").strip().rstrip("/")
        if not base:
            raise BadRequestError(
                "The azure provider needs the resource endpoint: pass api_base "
                "(https://RESOURCE.openai.azure.com) or set AZURE_OPENAI_API_BASE / AZURE_OPENAI_ENDPOINT.",
                param="api_base",
            )
        if base.endswith("/openai/v1"):
            return base
        if base.endswith("/openai"):
            return f"{base}/v1"
        return f"{base}/openai/v1"

    def auth_headers(self, creds: Credentials) -> dict[str, str]:
        """``Authorization: Bearer`` for an Entra ID token, else the ``api-key`` header."""
        if creds.access_token:
            return {"Authorization": f"Bearer {creds.access_token}"}
        if creds.api_key:
            return {"api-key": creds.api_key}
        raise AuthenticationError(
            "The azure provider needs an API key (api_key or AZURE_OPENAI_API_KEY) "
            "or an Entra ID access_token.",
            provider=self.name,
            code="missing_api_key",
        )

    def query(self, creds: Credentials) -> dict[str, str]:
        return {"api-version": v1_api_version(creds.api_version)}
