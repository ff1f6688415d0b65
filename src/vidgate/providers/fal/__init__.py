"""fal.ai's queue API: any model path (``fal/<owner>/<app>[/<path>]``), priced from the catalogue row
when the path has one, else from its deployment (an open model namespace)."""

from vidgate.providers.fal.adapter import FalProvider
from vidgate.providers.fal.config import FalConfig
from vidgate.providers.spec import ProviderSpec

SPEC = ProviderSpec(
    name="fal",
    package=__name__,
    adapter=FalProvider,
    config=FalConfig,
    aliases=("fal_ai",),
    emulator="vidgate.providers.fal.emulator:create_app",
    emulator_port=8111,
    emulator_env=("FAL_API_BASE={url}", "FAL_KEY={key}", "FAL_WEBHOOK_JWKS_URL={url}/.well-known/jwks.json"),
    description="fal.ai queue (Kling, Seedance, Luma Ray, ... and any model path)",
    open_models=True,
    provider_callbacks=True,
)
