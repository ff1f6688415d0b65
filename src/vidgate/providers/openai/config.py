"""OpenAI's deployment settings."""

from __future__ import annotations

from collections.abc import Mapping

from vidgate.providers.base import Credentials
from vidgate.providers.spec import ProviderConfig, setting


class OpenAIConfig(ProviderConfig):
    api_key: str | None = setting(env=("OPENAI_API_KEY",), secret=True, required=True, help="an API key")
    api_base: str | None = setting(env=("OPENAI_BASE_URL", "OPENAI_API_BASE"), help="the /v1 root")
    organization: str | None = setting()

    def credentials(self, extra_headers: Mapping[str, str]) -> Credentials:
        return Credentials(
            api_key=self.api_key,
            api_base=self.api_base,
            organization=self.organization,
            extra_headers=dict(extra_headers),
        )
