"""Published per-second prices, written by hand from each provider's price list (one module per
provider, so providers added in parallel do not edit the same file). A price here is never read from
the catalogue: the pricing tests compare the code's estimates with these numbers.

To add a provider: write ``tests/catalog/prices/<provider>.py`` with a ``PRICES`` dict (catalogue
model id -> :class:`Published`), naming the source of every row, and list the module below.
"""

from __future__ import annotations

from tests.catalog.prices import (
    azure,
    bfl,
    byteplus,
    dashscope,
    fal,
    gemini,
    kling,
    local,
    luma,
    minimax,
    openai,
    replicate,
    runway,
    vertex_ai,
    volcengine,
    xai,
)
from tests.catalog.prices.published import Published

PRICES: dict[str, Published] = {
    **openai.PRICES,
    **azure.PRICES,
    **gemini.PRICES,
    **vertex_ai.PRICES,
    **local.PRICES,
    **xai.PRICES,
    **dashscope.PRICES,
    **fal.PRICES,
    **replicate.PRICES,
    **luma.PRICES,
    **bfl.PRICES,
    **kling.PRICES,
    **minimax.PRICES,
    **runway.PRICES,
    **volcengine.PRICES,
    **byteplus.PRICES,
}

__all__ = ["PRICES", "Published"]
