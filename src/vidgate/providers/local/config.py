"""The local renderer's settings: ``api_base`` is a directory for its jobs and videos (default
``$VIDGATE_LOCAL_DIR``, read per call by the adapter)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from vidgate.providers.base import Credentials
from vidgate.providers.spec import ProviderConfig, setting


class LocalConfig(ProviderConfig):
    uses_module_defaults: ClassVar[bool] = False  # a module-wide gateway URL is never its directory

    api_base: str | None = setting(help="a directory (or file:// URL) for jobs and renders")

    def credentials(self, extra_headers: Mapping[str, str]) -> Credentials:
        return Credentials(api_base=self.api_base, extra_headers=dict(extra_headers))
