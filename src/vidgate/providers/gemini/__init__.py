"""Veo (``:predictLongRunning``) and Gemini Omni (Interactions API) on the Gemini API, with an API key;
its native routes are mounted at ``/gemini``."""

from vidgate.providers._google_wire.native import GoogleNative
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
    native=GoogleNative(
        surface="gemini",
        mount="/gemini",
        service="generativelanguage.googleapis.com",
        oauth_callers=False,
        gateway_files=True,
        inline_outputs=False,
        allow_gcs=False,
        model_missing="models/{model} is not found for this API version, or is not supported for "
        "predictLongRunning.",
    ),
)
