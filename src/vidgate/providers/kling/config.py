"""Kling's deployment settings: an access key and a secret key. The Bearer token is a JWT the credential
hook (``auth.py``) signs from them before every call, so it is never a setting."""

from __future__ import annotations

from collections.abc import Mapping

from vidgate.providers.base import Credentials
from vidgate.providers.spec import ProviderConfig, setting


class KlingConfig(ProviderConfig):
    api_key: str | None = setting(
        env=("KLING_ACCESS_KEY",), secret=True, required=True, help="a Kling access key"
    )
    secret_key: str | None = setting(
        env=("KLING_SECRET_KEY",), secret=True, required=True, help="a Kling secret key"
    )
    api_base: str | None = setting(env=("KLING_API_BASE",))

    def credentials(self, extra_headers: Mapping[str, str]) -> Credentials:
        return Credentials(
            api_key=self.api_key,
            secret_key=self.secret_key,
            api_base=self.api_base,
            extra_headers=dict(extra_headers),
        )
