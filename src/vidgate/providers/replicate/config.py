"""Replicate's deployment settings: a token (Bearer) and the API root (the SDK's ``base_url``)."""

from __future__ import annotations

from collections.abc import Mapping

from vidgate.providers.base import Credentials
from vidgate.providers.spec import ProviderConfig, setting


class ReplicateConfig(ProviderConfig):
    api_key: str | None = setting(
        env=("REPLICATE_API_TOKEN",), secret=True, required=True, help="a Replicate API token"
    )
    api_base: str | None = setting(
        env=("REPLICATE_BASE_URL",), help="the API root without /v1 (https://api.replicate.com)"
    )

    def credentials(self, extra_headers: Mapping[str, str]) -> Credentials:
        return Credentials(api_key=self.api_key, api_base=self.api_base, extra_headers=dict(extra_headers))
