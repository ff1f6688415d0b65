"""Luma's deployment settings: a Bearer key (``luma-api-...``) and the API root."""

from __future__ import annotations

from collections.abc import Mapping

from vidgate.providers.base import Credentials
from vidgate.providers.spec import ProviderConfig, setting


class LumaConfig(ProviderConfig):
    api_key: str | None = setting(
        env=("LUMA_API_KEY", "LUMAAI_API_KEY"), secret=True, required=True, help="a Luma API key"
    )
    api_base: str | None = setting(env=("LUMA_API_BASE", "LUMAAI_BASE_URL"), help="the Agents API /v1 root")

    def credentials(self, extra_headers: Mapping[str, str]) -> Credentials:
        return Credentials(api_key=self.api_key, api_base=self.api_base, extra_headers=dict(extra_headers))
