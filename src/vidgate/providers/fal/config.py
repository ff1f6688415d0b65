"""fal's deployment settings: a key (``Authorization: Key ...``) and the queue's root URL."""

from __future__ import annotations

from collections.abc import Mapping

from vidgate.providers.base import Credentials
from vidgate.providers.spec import ProviderConfig, setting


class FalConfig(ProviderConfig):
    api_key: str | None = setting(
        env=("FAL_KEY",), secret=True, required=True, help="a fal API key (FAL_KEY)"
    )
    api_base: str | None = setting(env=("FAL_API_BASE",), help="the queue root (https://queue.fal.run)")
    webhook_jwks_url: str | None = setting(
        env=("FAL_WEBHOOK_JWKS_URL",),
        help="where fal publishes its webhook signing keys (https://rest.alpha.fal.ai/.well-known/jwks.json)",
    )

    def credentials(self, extra_headers: Mapping[str, str]) -> Credentials:
        options = {"webhook_jwks_url": self.webhook_jwks_url} if self.webhook_jwks_url else {}
        return Credentials(
            api_key=self.api_key, api_base=self.api_base, extra_headers=dict(extra_headers), options=options
        )
