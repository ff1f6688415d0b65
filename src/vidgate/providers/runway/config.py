"""Runway's deployment settings: the API secret, an optional base URL and the API version header."""

from __future__ import annotations

from collections.abc import Mapping

from vidgate.providers.base import Credentials
from vidgate.providers.spec import ProviderConfig, setting

RUNWAY_VERSION = "2024-11-06"  # the X-Runway-Version the API requires (the SDK's default too)


class RunwayConfig(ProviderConfig):
    api_key: str | None = setting(
        env=("RUNWAYML_API_SECRET",), secret=True, required=True, help="a Runway developer API secret"
    )
    api_base: str | None = setting(env=("RUNWAYML_BASE_URL",), help="default https://api.dev.runwayml.com")
    api_version: str | None = setting(
        RUNWAY_VERSION, env=("RUNWAYML_API_VERSION",), help="the X-Runway-Version header"
    )

    def credentials(self, extra_headers: Mapping[str, str]) -> Credentials:
        return Credentials(
            api_key=self.api_key,
            api_base=self.api_base,
            api_version=self.api_version or RUNWAY_VERSION,
            extra_headers=dict(extra_headers),
        )
