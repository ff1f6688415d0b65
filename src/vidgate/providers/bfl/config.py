"""BFL's deployment settings: an ``x-key`` and a host (the global one, a regional one, or explicit)."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import field_validator

from vidgate.providers.base import Credentials
from vidgate.providers.spec import ProviderConfig, setting

# The API root of each region (docs.bfl.ai: global with failover, EU and US data residency).
REGION_BASES: Mapping[str, str] = {
    "global": "https://api.bfl.ai",
    "eu": "https://api.eu.bfl.ai",
    "us": "https://api.us.bfl.ai",
}


class BFLConfig(ProviderConfig):
    api_key: str | None = setting(env=("BFL_API_KEY",), secret=True, required=True, help="a BFL API key")
    api_base: str | None = setting(env=("BFL_API_BASE",), help="the API root, without /v1 (overrides region)")
    region: str | None = setting("global", env=("BFL_REGION",), help="global, eu or us")

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        if value is not None and value not in REGION_BASES:
            raise ValueError(f"unknown region {value!r}: expected one of {', '.join(REGION_BASES)}")
        return value

    def credentials(self, extra_headers: Mapping[str, str]) -> Credentials:
        base = self.api_base or REGION_BASES[self.region or "global"]
        return Credentials(
            api_key=self.api_key, api_base=base, location=self.region, extra_headers=dict(extra_headers)
        )
