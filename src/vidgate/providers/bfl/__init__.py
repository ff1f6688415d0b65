"""Black Forest Labs FLUX 3 video: submit -> ``{id, polling_url}`` -> poll that URL -> ``result.sample``."""

from vidgate.providers.bfl.adapter import BFLProvider
from vidgate.providers.bfl.config import BFLConfig
from vidgate.providers.spec import ProviderSpec

SPEC = ProviderSpec(
    name="bfl",
    package=__name__,
    adapter=BFLProvider,
    config=BFLConfig,
    emulator="vidgate.providers.bfl.emulator:create_app",
    emulator_port=8132,
    emulator_env=("BFL_API_BASE={url}", "BFL_API_KEY={key}"),
    description="Black Forest Labs FLUX 3 video",
    provider_callbacks=True,
)
