"""Veo and Gemini Omni on Vertex AI (OAuth2 Bearer, refreshed by the credential hook before every call);
its native routes are mounted at ``/vertex_ai``."""

from vidgate.providers._google_wire.native import GoogleNative
from vidgate.providers.spec import ProviderSpec
from vidgate.providers.vertex_ai.adapter import VertexProvider
from vidgate.providers.vertex_ai.auth import awith_vertex_token, with_vertex_token
from vidgate.providers.vertex_ai.config import VertexConfig

SPEC = ProviderSpec(
    name="vertex_ai",
    package=__name__,
    adapter=VertexProvider,
    config=VertexConfig,
    aliases=("vertex",),
    authorize=awith_vertex_token,
    authorize_sync=with_vertex_token,
    emulator="vidgate.providers.vertex_ai.emulator:create_app",
    emulator_port=8104,
    emulator_env=("VERTEXAI_API_BASE={url}", "VERTEXAI_PROJECT=my-project", "VERTEXAI_ACCESS_TOKEN={key}"),
    description="Veo on Vertex AI",
    native=GoogleNative(
        surface="vertex_ai",
        mount="/vertex_ai",
        service="aiplatform.googleapis.com",
        oauth_callers=True,
        gateway_files=False,
        inline_outputs=True,
        allow_gcs=True,
        model_missing="Publisher Model `publishers/google/models/{model}` was not found or you lack access "
        "to it.",
    ),
)
