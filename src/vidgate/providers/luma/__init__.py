"""Luma Ray video (the Agents API: create -> generation id -> poll ``state`` -> expiring asset URL)."""

from vidgate.providers.luma.adapter import LumaProvider
from vidgate.providers.luma.config import LumaConfig
from vidgate.providers.spec import ProviderSpec

SPEC = ProviderSpec(
    name="luma",
    package=__name__,
    adapter=LumaProvider,
    config=LumaConfig,
    emulator="vidgate.providers.luma.emulator:create_app",
    emulator_port=8131,
    emulator_env=("LUMA_API_BASE={url}/v1", "LUMA_API_KEY={key}"),
    description="Luma Ray video (Agents API)",
)
