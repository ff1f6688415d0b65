"""BytePlus ModelArk's deployment settings: one key per region, serving only the models it activated."""

from __future__ import annotations

from collections.abc import Mapping

from vidgate.providers.base import Credentials
from vidgate.providers.spec import ProviderConfig, setting


class BytePlusConfig(ProviderConfig):
    api_key: str | None = setting(
        env=("BYTEPLUS_API_KEY", "ARK_API_KEY"), secret=True, required=True, help="a ModelArk API key"
    )
    api_base: str | None = setting(env=("BYTEPLUS_API_BASE",), help="the .../api/v3 root")

    def credentials(self, extra_headers: Mapping[str, str]) -> Credentials:
        return Credentials(api_key=self.api_key, api_base=self.api_base, extra_headers=dict(extra_headers))
