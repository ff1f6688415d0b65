"""Per-input prices in the one start pipeline's pricing (``starter.price_for``): reference videos (and a
source video) are counted as input videos, images as input images; the reservation is exact in
micro-dollars."""

from __future__ import annotations

from dataclasses import replace

from vidgate.catalog import parse_row, validate
from vidgate.catalog.pricing import inputs_of
from vidgate.gateway.routing import Deployment
from vidgate.gateway.starter import price_for
from vidgate.types import ImageInput, SourceVideo

ROW = parse_row(
    {
        "id": "test/refs",
        "seconds": [4, 8],
        "default_seconds": 4,
        "sizes": {"1280x720": "720p"},
        "default_size": "1280x720",
        "features": ["reference_images", "reference_videos"],
        "prices": {"720p": 0.10},
        "price_per_input": {"image": 0.02, "video": 0.25},
    }
)
DEP = Deployment(id="d1", model_name="refs", provider="test", model="refs", spec=ROW)
CLIP = "https://cdn.example.com/clip.mp4"


def test_reference_videos_are_priced_per_input_video() -> None:
    req = validate(
        ROW,
        prompt="a fox",
        seconds=8,
        reference_images=[ImageInput(url="https://img.example/a.png")],
        reference_videos=[SourceVideo(url=CLIP), SourceVideo(url=CLIP + "?2")],
    )
    assert inputs_of(req) == {"image": 1, "video": 2}
    # 8 s x $0.10 + 1 image x $0.02 + 2 videos x $0.25 = $1.32
    assert price_for(DEP, req).micros == 1_320_000


def test_without_inputs_only_the_seconds_are_priced() -> None:
    req = validate(ROW, prompt="a fox", seconds=4)
    assert inputs_of(req) == {}
    assert price_for(DEP, req).micros == 400_000


def test_an_edits_source_video_counts_as_an_input_video() -> None:
    req = replace(validate(ROW, prompt="a fox", seconds=4), task="edit", source_video=SourceVideo(url=CLIP))
    assert inputs_of(req) == {"video": 1}
    # 4 s x $0.10 + 1 video x $0.25 = $0.65
    assert price_for(DEP, req).micros == 650_000
