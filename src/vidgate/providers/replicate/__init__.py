"""Replicate predictions: ``replicate/<owner>/<name>`` (the model's current version) or
``replicate/<owner>/<name>:<version>`` (pinned); listed models are priced from their rows, any other
from its deployment (an open model namespace)."""

from vidgate.providers.replicate.adapter import ReplicateProvider
from vidgate.providers.replicate.config import ReplicateConfig
from vidgate.providers.spec import ProviderSpec

SPEC = ProviderSpec(
    name="replicate",
    package=__name__,
    adapter=ReplicateProvider,
    config=ReplicateConfig,
    emulator="vidgate.providers.replicate.emulator:create_app",
    emulator_port=8112,
    emulator_env=("REPLICATE_BASE_URL={url}", "REPLICATE_API_TOKEN={key}"),
    description="Replicate predictions (Veo 3.1 and any owner/name[:version])",
    open_models=True,
    provider_callbacks=True,
)
