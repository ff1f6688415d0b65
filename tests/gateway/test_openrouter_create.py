"""OpenRouter-shaped creates through the service, on a MiniMax H3 deployment: what reaches the adapter is
the mapped request, priced as mapped; what the row cannot honour is a 400 before any provider call,
or dropped (and reported) under drop_params."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.gateway.harness import MASTER, Gateway, make_gateway

from vidgate.catalog.openrouter import OpenRouterFields
from vidgate.errors import BadRequestError
from vidgate.gateway.config import parse_config
from vidgate.gateway.service import CreateNotes, CreateVideo
from vidgate.providers.base import Credentials, Flow, ProviderJob
from vidgate.providers.minimax.adapter import MiniMaxProvider
from vidgate.types import ImageInput, VideoRequest

FIRST = ImageInput(url="https://img.example/first.png")
LAST = ImageInput(url="https://img.example/last.png")


class RecordingMiniMax(MiniMaxProvider):
    """MiniMax's adapter with its create answered locally: the request it was given is kept."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[VideoRequest] = []

    def create(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]:
        self.requests.append(req)
        return ProviderJob(native_id=f"task-{len(self.requests)}", status="queued", model=req.model)
        yield  # a flow that makes no call


def gateway(local_root: Path, *, drop_params: bool = False) -> tuple[Gateway, RecordingMiniMax]:
    config = parse_config(
        {
            "model_list": [
                {"model_name": "h3", "litellm_params": {"model": "minimax/MiniMax-H3", "api_key": "mm-key"}}
            ],
            "general_settings": {"master_key": MASTER},
            "litellm_settings": {"drop_params": drop_params},
        },
        environ={},
    )
    provider = RecordingMiniMax()
    return make_gateway(local_root, config=config, extra_providers={"minimax": provider}), provider


async def create(gw: Gateway, notes: CreateNotes | None = None, **fields: Any) -> Any:
    master = await gw.master()
    return await gw.service.create_video(
        master, CreateVideo(model="h3", prompt="a fox", **fields), notes=notes
    )


async def test_every_openrouter_field_reaches_the_adapter_mapped(local_root: Path) -> None:
    gw, provider = gateway(local_root)
    shape = OpenRouterFields(
        duration=5, resolution="2K", aspect_ratio="9:16", first_frame=FIRST, last_frame=LAST
    )
    video = await create(gw, openrouter=shape, extra={"generate_audio": False})
    [req] = provider.requests
    assert (req.seconds, req.size, req.resolution) == (5, "1440x2560", "2K")
    assert (req.input_reference, req.last_frame) == (FIRST, LAST)
    assert req.generate_audio is False
    assert (video.seconds, video.size) == ("5", "1440x2560")
    # 5 s x $0.13 (2K) + 2 input images x $0.04, from minimax/models.yaml
    assert video.usage is not None
    assert video.usage.cost == pytest.approx(0.73)
    await gw.close()


async def test_input_references_reach_the_adapter_as_reference_images(local_root: Path) -> None:
    gw, provider = gateway(local_root)
    await create(gw, openrouter=OpenRouterFields(input_references=(FIRST, LAST)))
    assert provider.requests[0].reference_images == (FIRST, LAST)
    await gw.close()


async def test_conflicts_are_400s_before_any_provider_call(local_root: Path) -> None:
    gw, provider = gateway(local_root)
    with pytest.raises(BadRequestError, match="'seconds' and 'duration'"):
        await create(gw, seconds="8", openrouter=OpenRouterFields(duration=6))
    with pytest.raises(BadRequestError, match="'size' and 'resolution'"):
        await create(gw, size="1366x768", openrouter=OpenRouterFields(resolution="2K"))
    with pytest.raises(BadRequestError, match="'input_reference' and 'frame_images'"):
        await create(gw, input_reference=LAST, openrouter=OpenRouterFields(first_frame=FIRST))
    assert provider.requests == []
    await gw.close()


async def test_an_unsupported_field_is_a_400_naming_it(local_root: Path) -> None:
    gw, provider = gateway(local_root)
    with pytest.raises(BadRequestError) as caught:
        await create(gw, extra={"seed": 1})  # H3 has no seed
    assert (caught.value.param, caught.value.code) == ("seed", "unsupported_parameter")
    assert provider.requests == []
    await gw.close()


async def test_drop_params_leaves_it_out_and_says_which(local_root: Path) -> None:
    gw, provider = gateway(local_root, drop_params=True)
    notes = CreateNotes()
    await create(gw, notes=notes, extra={"seed": 1, "negative_prompt": "rain"})
    assert notes.dropped == ("negative_prompt", "seed")
    [req] = provider.requests
    assert (req.seed, req.negative_prompt) == (None, None)
    with pytest.raises(BadRequestError, match="Supported values are: '768P' and '2K'"):
        await create(gw, openrouter=OpenRouterFields(resolution="4k"))  # a value is never dropped
    await gw.close()
