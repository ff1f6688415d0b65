"""OpenAI-compatible ``/v1/videos`` servers: vLLM-Omni, SGLang diffusion, NVIDIA Dynamo, and other
gateways (another vidgate, LiteLLM). Any model name (an open namespace); the deployment gives the
``api_base`` and the price."""

from vidgate.providers.openai_compatible.adapter import OPEN_FEATURES, OpenAICompatibleProvider
from vidgate.providers.openai_compatible.config import OpenAICompatibleConfig
from vidgate.providers.spec import ProviderSpec

SPEC = ProviderSpec(
    name="openai_compatible",
    package=__name__,
    adapter=OpenAICompatibleProvider,
    config=OpenAICompatibleConfig,
    aliases=("hosted_vllm",),
    emulator="vidgate.providers.openai_compatible.emulator:create_app",
    emulator_port=8110,
    emulator_env=("OPENAI_COMPATIBLE_API_BASE={url}/v1", "OPENAI_COMPATIBLE_API_KEY={key}"),
    open_models=True,
    open_features=OPEN_FEATURES,
    description="OpenAI-compatible /v1/videos servers (vLLM-Omni, SGLang, Dynamo, gateways)",
)
