"""MiniMax's deployment settings: a pay-as-you-go API key (Bearer) and an optional base URL."""

from __future__ import annotations

from collections.abc import Mapping

from vidgate.providers.base import Credentials
from vidgate.providers.spec import ProviderConfig, setting


class MiniMaxConfig(ProviderConfig):
    api_key: str | None = setting(
        env=("MINIMAX_API_KEY",), secret=True, required=True, help="a MiniMax API key"
    )
    api_base: str | None = setting(env=("MINIMAX_API_BASE",))

    def credentials(self, extra_headers: Mapping[str, str]) -> Credentials:
        return Credentials(api_key=self.api_key, api_base=self.api_base, extra_headers=dict(extra_headers))
