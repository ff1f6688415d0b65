"""OpenAI Videos (Sora 2). Shut down upstream on 2026-09-24; its wire shape is vidgate's own API."""

from vidgate.providers.openai.adapter import OpenAIProvider
from vidgate.providers.openai.config import OpenAIConfig
from vidgate.providers.spec import ProviderSpec

SPEC = ProviderSpec(
    name="openai",
    package=__name__,
    adapter=OpenAIProvider,
    config=OpenAIConfig,
    emulator="vidgate.providers.openai.emulator:create_app",
    emulator_port=8101,
    emulator_env=("OPENAI_BASE_URL={url}/v1", "OPENAI_API_KEY={key}"),
    description="OpenAI Videos API (Sora 2)",
)
