"""Seedance on Volcengine Ark (``ark.cn-beijing.volces.com``): the Ark task API, ``doubao-*`` model ids."""

from vidgate.providers.spec import ProviderSpec
from vidgate.providers.volcengine.adapter import VolcengineProvider
from vidgate.providers.volcengine.config import VolcengineConfig

SPEC = ProviderSpec(
    name="volcengine",
    package=__name__,
    adapter=VolcengineProvider,
    config=VolcengineConfig,
    aliases=("volcengine_ark",),
    emulator="vidgate.providers.volcengine.emulator:create_app",
    emulator_port=8105,
    emulator_env=("VOLCENGINE_API_BASE={url}/api/v3", "ARK_API_KEY={key}"),
    description="Seedance on Volcengine Ark (China)",
)
