"""Runway's developer API: its own models (gen4.5, gen4_turbo) and the models it resells (Veo, Seedance)."""

from vidgate.providers.runway.adapter import RunwayProvider
from vidgate.providers.runway.config import RunwayConfig
from vidgate.providers.spec import ProviderSpec

SPEC = ProviderSpec(
    name="runway",
    package=__name__,
    adapter=RunwayProvider,
    config=RunwayConfig,
    aliases=("runwayml",),
    emulator="vidgate.providers.runway.emulator:create_app",
    emulator_port=8131,
    emulator_env=("RUNWAYML_BASE_URL={url}", "RUNWAYML_API_SECRET={key}"),
    description="Runway developer API (gen4.5, gen4_turbo, aleph2; resold Veo, Seedance, Hailuo, Omni)",
)
