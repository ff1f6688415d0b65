"""Azure OpenAI videos (Sora on Azure, v1 API). The model name is the caller's deployment name."""

from vidgate.providers.azure.adapter import AzureProvider
from vidgate.providers.azure.config import AzureConfig
from vidgate.providers.spec import ProviderSpec

SPEC = ProviderSpec(
    name="azure",
    package=__name__,
    adapter=AzureProvider,
    config=AzureConfig,
    aliases=("azure_openai",),
    emulator="vidgate.providers.azure.emulator:create_app",
    emulator_port=8102,
    emulator_env=("AZURE_OPENAI_API_BASE={url}", "AZURE_OPENAI_API_KEY={key}"),
    bare_names=False,
    default_base_model="sora-2",
    description="Azure OpenAI videos (Sora)",
)
