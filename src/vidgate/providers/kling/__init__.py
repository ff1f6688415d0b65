"""Kling's official API (task API; a JWT signed per call by the credential hook)."""

from vidgate.providers.kling.adapter import KlingProvider
from vidgate.providers.kling.auth import awith_kling_token, with_kling_token
from vidgate.providers.kling.config import KlingConfig
from vidgate.providers.spec import ProviderSpec

SPEC = ProviderSpec(
    name="kling",
    package=__name__,
    adapter=KlingProvider,
    config=KlingConfig,
    aliases=("klingai",),
    authorize=awith_kling_token,
    authorize_sync=with_kling_token,
    emulator="vidgate.providers.kling.emulator:create_app",
    emulator_port=8110,
    emulator_env=("KLING_API_BASE={url}", "KLING_ACCESS_KEY={key}", "KLING_SECRET_KEY={key}"),
    description="Kling (official API)",
    provider_callbacks=True,
)
