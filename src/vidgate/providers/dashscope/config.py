"""DashScope's deployment settings. Keys are region-locked: a key, its region's endpoint and the model
must share a region, so a deployment names its region (or an explicit base URL, e.g. a workspace domain
``https://{WorkspaceId}.ap-southeast-1.maas.aliyuncs.com/api/v1``)."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import field_validator

from vidgate.providers.base import Credentials
from vidgate.providers.spec import ProviderConfig, setting

# The ``/api/v1`` root of each region (what ``dashscope.base_http_api_url`` holds).
REGION_BASES: Mapping[str, str] = {
    "intl": "https://dashscope-intl.aliyuncs.com/api/v1",  # Singapore
    "cn": "https://dashscope.aliyuncs.com/api/v1",  # Beijing
    "us": "https://dashscope-us.aliyuncs.com/api/v1",  # Virginia
}


class DashScopeConfig(ProviderConfig):
    api_key: str | None = setting(
        env=("DASHSCOPE_API_KEY",), secret=True, required=True, help="a Model Studio API key of the region"
    )
    api_base: str | None = setting(
        env=("DASHSCOPE_HTTP_BASE_URL", "DASHSCOPE_API_BASE"), help="the /api/v1 root (overrides region)"
    )
    region: str | None = setting("intl", env=("DASHSCOPE_REGION",), help="intl, cn or us")
    workspace: str | None = setting(env=("DASHSCOPE_WORKSPACE_ID",), help="a Model Studio workspace id")

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        if value is not None and value not in REGION_BASES:
            raise ValueError(f"unknown region {value!r}: expected one of {', '.join(REGION_BASES)}")
        return value

    def credentials(self, extra_headers: Mapping[str, str]) -> Credentials:
        headers = dict(extra_headers)
        if self.workspace:
            headers["X-DashScope-WorkSpace"] = self.workspace
        base = self.api_base or REGION_BASES[self.region or "intl"]
        return Credentials(api_key=self.api_key, api_base=base, location=self.region, extra_headers=headers)
