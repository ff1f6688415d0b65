"""What the start pipeline reserves for a request with input videos (``starter.price_for``): the counted
inputs and, on a row that bills an input video at another token rate, that rate over the output's
seconds plus the row's bound on input video seconds; on a row with a per-second with-video rate (Kling
omni), that rate over the output's seconds. Numbers written by hand."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from vidgate.catalog import validate
from vidgate.catalog.pricing import inputs_of
from vidgate.gateway.routing import Deployment
from vidgate.gateway.starter import price_for
from vidgate.providers.catalogue import find_model
from vidgate.types import ImageInput, SourceVideo

FOUND = find_model("byteplus/dreamina-seedance-2-0-260128")
assert FOUND is not None
SPEC = FOUND
DEP = Deployment(
    id="d1", model_name="seedance", provider="byteplus", model="dreamina-seedance-2-0-260128", spec=SPEC
)
CLIP = SourceVideo(url="https://cdn.example/motion.mp4")


def test_reference_videos_and_a_source_video_are_counted_as_input_videos() -> None:
    req = validate(SPEC, prompt="x", reference_images=[ImageInput(url="https://img.example/a.png")])
    assert inputs_of(req) == {"image": 1}
    assert inputs_of(replace(req, reference_videos=(CLIP, CLIP))) == {"image": 1, "video": 2}
    assert inputs_of(replace(req, reference_images=(), source_video=CLIP)) == {"video": 1}


def test_a_seedance_request_with_a_reference_video_reserves_the_with_video_bound() -> None:
    req = validate(SPEC, prompt="x", seconds="5", size="1280x720")
    plain = price_for(DEP, req)
    # 21,830 tokens/s x 5 s = 109,150 tokens x $7/1M = $0.76405.
    assert (plain.micros, plain.token_bound, plain.token_micros) == (764_050, 109_150, 764_050)
    with_video = price_for(DEP, replace(req, reference_videos=(CLIP,)))
    # 21,830 x (5 + 15) s = 436,600 tokens x $4.3/1M = $1.87738, all of it settled on reported tokens.
    assert (with_video.micros, with_video.token_bound, with_video.token_micros) == (
        1_877_380,
        436_600,
        1_877_380,
    )


def test_a_kling_omni_request_with_a_reference_video_reserves_the_with_video_rate() -> None:
    omni = find_model("kling/kling-v3-omni")
    assert omni is not None
    dep = Deployment(id="d2", model_name="omni", provider="kling", model="kling-v3-omni", spec=omni)
    req = validate(omni, prompt="x", seconds="5", size="1280x720")
    # 5 s std with audio: $0.112/s = $0.56; with a reference video: $0.126/s = $0.63 (sound is sent off).
    assert price_for(dep, req).micros == 560_000
    with_video = price_for(dep, replace(req, reference_videos=(CLIP,)))
    assert (with_video.micros, with_video.token_bound, with_video.token_micros) == (630_000, 0, 0)
    pro = validate(omni, prompt="x", seconds="5", size="1920x1080", reference_videos=[CLIP])
    assert price_for(dep, pro).micros == 840_000  # 5 s pro x $0.168
    own = replace(dep, price_per_second=Decimal("0.2"))  # a deployment's own rate wins: 5 s x $0.20
    assert price_for(own, replace(req, reference_videos=(CLIP,))).micros == 1_000_000
