"""``check_image``: the create-time decode refuses exactly the first frames ``fit_image`` cannot render."""

from __future__ import annotations

import pytest
from PIL import Image
from tests.support.images import corrupt_webp, image_bytes, truncated_jpeg, undecodable_png

from vidgate.render.frames import check_image, fit_image

DAMAGED = {
    "truncated-jpeg": truncated_jpeg(),
    "corrupt-webp": corrupt_webp(),
    "undecodable-png": undecodable_png(),
    "not-an-image": b"not an image",
}


@pytest.mark.parametrize("kind", ["jpeg", "png", "webp"])
def test_a_whole_image_passes(kind: str) -> None:
    data = image_bytes(640, 360, kind)
    check_image(data)
    assert fit_image(data, 64, 36).shape == (36, 64, 3)


@pytest.mark.parametrize("data", DAMAGED.values(), ids=DAMAGED.keys())
def test_a_damaged_image_is_refused_as_the_renderer_refuses_it(data: bytes) -> None:
    with pytest.raises(ValueError, match="not a decodable PNG/JPEG/WebP image"):
        fit_image(data, 64, 36)
    with pytest.raises(ValueError, match="not a decodable PNG/JPEG/WebP image"):
        check_image(data)


def test_a_decompression_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow's limit holds at create as at render: beyond twice ``MAX_IMAGE_PIXELS``, nothing is decoded."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    data = image_bytes(64, 36, "png")
    for check in (lambda: check_image(data), lambda: fit_image(data, 16, 9)):
        with pytest.raises(ValueError, match="decompression bomb"):
            check()
