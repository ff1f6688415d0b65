"""xAI Grok Imagine video: a deferred-request API (create -> request_id -> poll -> expiring URL)."""

from vidgate.providers.spec import ProviderSpec
from vidgate.providers.xai.adapter import XAIProvider
from vidgate.providers.xai.config import XAIConfig

SPEC = ProviderSpec(
    name="xai",
    package=__name__,
    adapter=XAIProvider,
    config=XAIConfig,
    emulator="vidgate.providers.xai.emulator:create_app",
    emulator_port=8111,
    emulator_env=("XAI_API_BASE={url}/v1", "XAI_API_KEY={key}"),
    description="xAI Grok Imagine video (REST)",
)
