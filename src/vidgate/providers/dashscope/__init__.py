"""Alibaba Model Studio (DashScope): Wan and HappyHorse video synthesis as an async task API."""

from vidgate.providers.dashscope.adapter import DashScopeProvider
from vidgate.providers.dashscope.config import DashScopeConfig
from vidgate.providers.spec import ProviderSpec

SPEC = ProviderSpec(
    name="dashscope",
    package=__name__,
    adapter=DashScopeProvider,
    config=DashScopeConfig,
    aliases=("alibaba",),
    emulator="vidgate.providers.dashscope.emulator:create_app",
    emulator_port=8112,
    emulator_env=("DASHSCOPE_HTTP_BASE_URL={url}/api/v1", "DASHSCOPE_API_KEY={key}"),
    description="Alibaba Model Studio / DashScope (Wan, HappyHorse)",
)
