"""The Gemini API's deployment settings."""

from __future__ import annotations

from collections.abc import Mapping

from vidgate.providers.base import Credentials
from vidgate.providers.spec import ProviderConfig, setting


class GeminiConfig(ProviderConfig):
    api_key: str | None = setting(env=("GEMINI_API_KEY", "GOOGLE_API_KEY"), secret=True, required=True)
    api_base: str | None = setting(env=("GEMINI_API_BASE", "GOOGLE_GEMINI_BASE_URL"))

    def credentials(self, extra_headers: Mapping[str, str]) -> Credentials:
        return Credentials(api_key=self.api_key, api_base=self.api_base, extra_headers=dict(extra_headers))
