"""MiniMax Hailuo H3 on MiniMax's V2 video API (task API; failures may arrive as HTTP 200)."""

from vidgate.providers.minimax.adapter import MiniMaxProvider
from vidgate.providers.minimax.config import MiniMaxConfig
from vidgate.providers.spec import ProviderSpec

SPEC = ProviderSpec(
    name="minimax",
    package=__name__,
    adapter=MiniMaxProvider,
    config=MiniMaxConfig,
    aliases=("hailuo",),
    emulator="vidgate.providers.minimax.emulator:create_app",
    emulator_port=8111,
    emulator_env=("MINIMAX_API_BASE={url}", "MINIMAX_API_KEY={key}"),
    description="MiniMax Hailuo H3 (V2 API)",
    provider_callbacks=True,
)
