"""Veo on the Gemini API (``:predictLongRunning`` with an API key)."""

from vidgate.providers.gemini.adapter import GeminiProvider
from vidgate.providers.gemini.config import GeminiConfig
from vidgate.providers.spec import ProviderSpec

SPEC = ProviderSpec(
    name="gemini",
    package=__name__,
    adapter=GeminiProvider,
    config=GeminiConfig,
    aliases=("google",),
    emulator="vidgate.providers.gemini.emulator:create_app",
    emulator_port=8103,
    emulator_env=("GEMINI_API_BASE={url}", "GEMINI_API_KEY={key}"),
    description="Veo on the Gemini API",
)
