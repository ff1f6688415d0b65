"""xAI's deployment settings: a Bearer key and the ``/v1`` root."""

from __future__ import annotations

from collections.abc import Mapping

from vidgate.providers.base import Credentials
from vidgate.providers.spec import ProviderConfig, setting


class XAIConfig(ProviderConfig):
    api_key: str | None = setting(env=("XAI_API_KEY",), secret=True, required=True, help="an xAI API key")
    api_base: str | None = setting(env=("XAI_API_BASE", "XAI_BASE_URL"), help="the /v1 root")

    def credentials(self, extra_headers: Mapping[str, str]) -> Credentials:
        return Credentials(api_key=self.api_key, api_base=self.api_base, extra_headers=dict(extra_headers))
