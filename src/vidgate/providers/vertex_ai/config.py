"""Vertex AI's deployment settings. The Bearer token is not a setting read at start-up: it expires, so
the credential hook (``auth.py``) fills it in before every call unless ``access_token`` pins one."""

from __future__ import annotations

from collections.abc import Mapping

from vidgate.providers.base import Credentials
from vidgate.providers.spec import ProviderConfig, setting

DEFAULT_LOCATION = "us-central1"


class VertexConfig(ProviderConfig):
    vertex_project: str | None = setting(
        env=("VERTEXAI_PROJECT", "VERTEX_PROJECT", "GOOGLE_CLOUD_PROJECT"), required=True, help="a project"
    )
    vertex_location: str | None = setting(
        DEFAULT_LOCATION, env=("VERTEXAI_LOCATION", "VERTEX_LOCATION", "GOOGLE_CLOUD_LOCATION")
    )
    api_base: str | None = setting(env=("VERTEXAI_API_BASE", "VERTEX_API_BASE"))
    api_version: str | None = setting()
    access_token: str | None = setting(secret=True, help="a fixed OAuth2 token (else refreshed per call)")

    def credentials(self, extra_headers: Mapping[str, str]) -> Credentials:
        return Credentials(
            api_base=self.api_base,
            api_version=self.api_version,
            project=self.vertex_project,
            location=self.vertex_location,
            access_token=self.access_token,
            extra_headers=dict(extra_headers),
        )
