"""Veo on Vertex AI (OAuth2 Bearer, refreshed by the credential hook before every call)."""

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
)
