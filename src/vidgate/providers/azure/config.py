"""Azure OpenAI's deployment settings: the resource endpoint and a key (or an Entra bearer token)."""

from __future__ import annotations

from collections.abc import Mapping

from vidgate.providers.base import Credentials
from vidgate.providers.spec import MissingSetting, ProviderConfig, setting


class AzureConfig(ProviderConfig):
    api_key: str | None = setting(env=("AZURE_OPENAI_API_KEY", "AZURE_API_KEY"), secret=True)
    api_base: str | None = setting(
        env=("AZURE_OPENAI_API_BASE", "AZURE_OPENAI_ENDPOINT", "AZURE_API_BASE"),
        required=True,
        help="the resource endpoint, https://RESOURCE.openai.azure.com",
    )
    api_version: str | None = setting(env=("AZURE_OPENAI_API_VERSION", "AZURE_API_VERSION"))
    access_token: str | None = setting(secret=True, help="an Entra ID bearer token instead of api_key")

    def check_required(self, provider: str) -> None:
        if not (self.api_key or self.access_token):  # the key first: a missing secret is a 401 in the SDK
            raise MissingSetting(provider, "api_key", self.env_names("api_key"), True, "an API key")
        super().check_required(provider)

    def credentials(self, extra_headers: Mapping[str, str]) -> Credentials:
        return Credentials(
            api_key=self.api_key,
            api_base=self.api_base,
            api_version=self.api_version,
            access_token=self.access_token,
            extra_headers=dict(extra_headers),
        )
