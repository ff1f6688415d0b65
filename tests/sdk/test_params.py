"""input_reference normalisation: every accepted form becomes one ImageInput; bad input names the param."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from tests.support.images import image_bytes

from vidgate.errors import BadRequestError
from vidgate.sdk.params import image_list, sniff_mime, to_data_url, to_image
from vidgate.types import ImageInput

JPEG = image_bytes(32, 18, "jpeg")
PNG = image_bytes(32, 18, "png")
WEBP = image_bytes(32, 18, "webp")


@pytest.mark.parametrize(("data", "mime"), [(JPEG, "image/jpeg"), (PNG, "image/png"), (WEBP, "image/webp")])
def test_raw_bytes_are_sniffed(data: bytes, mime: str) -> None:
    image = to_image(data)
    assert image.data == data
    assert image.mime_type == mime
    assert image.filename == f"input_reference.{mime.split('/')[1].replace('jpeg', 'jpg')}"


def test_open_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "start_frame.png"
    path.write_bytes(PNG)
    with path.open("rb") as f:
        image = to_image(f)
    assert (image.data, image.mime_type, image.filename) == (PNG, "image/png", "start_frame.png")


def test_in_memory_file_object() -> None:
    image = to_image(io.BytesIO(WEBP))
    assert (image.data, image.mime_type) == (WEBP, "image/webp")


def test_text_mode_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("hello")
    with path.open("r") as f, pytest.raises(BadRequestError, match="binary mode") as info:
        to_image(f)
    assert info.value.param == "input_reference"


@pytest.mark.parametrize("as_path", [True, False])
def test_path_to_an_existing_file(tmp_path: Path, as_path: bool) -> None:
    path = tmp_path / "frame.jpg"
    path.write_bytes(JPEG)
    image = to_image(path if as_path else str(path))
    assert (image.data, image.mime_type, image.filename) == (JPEG, "image/jpeg", "frame.jpg")


def test_missing_path_names_the_param_and_the_forms(tmp_path: Path) -> None:
    with pytest.raises(BadRequestError, match="names no existing file") as info:
        to_image(str(tmp_path / "nope.jpg"), "last_frame")
    assert info.value.param == "last_frame"
    assert "https://" in info.value.message


def test_tuple_with_declared_mime_keeps_it() -> None:
    image = to_image(("start_frame.jpg", JPEG, "image/jpeg"))
    assert (image.data, image.mime_type, image.filename) == (JPEG, "image/jpeg", "start_frame.jpg")


def test_tuple_without_mime_is_sniffed() -> None:
    assert to_image(("x.bin", PNG, None)).mime_type == "image/png"
    assert to_image(("x.bin", PNG)).mime_type == "image/png"


def test_tuple_with_a_file_object() -> None:
    image = to_image(("dir/frame.webp", io.BytesIO(WEBP), "image/webp"))
    assert (image.data, image.filename) == (WEBP, "frame.webp")


def test_https_url_stays_a_url() -> None:
    image = to_image("https://example.com/cat.png")
    assert image == ImageInput(url="https://example.com/cat.png")


def test_data_url_is_decoded_to_bytes() -> None:
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    image = to_image(url)
    assert (image.data, image.mime_type, image.url) == (PNG, "image/png", None)
    assert to_data_url(image) == url


def test_plain_http_url_is_rejected() -> None:
    with pytest.raises(BadRequestError, match="https://") as info:
        to_image("http://example.com/cat.png")
    assert info.value.param == "input_reference"


def test_dict_image_url_and_file_id() -> None:
    assert to_image({"image_url": "https://e.com/a.jpg"}).url == "https://e.com/a.jpg"
    assert to_image({"file_id": "file-123"}) == ImageInput(file_id="file-123")
    data_url = "data:image/jpeg;base64," + base64.b64encode(JPEG).decode()
    assert to_image({"image_url": data_url}).data == JPEG


@pytest.mark.parametrize("bad", [{"image_url": 3}, {"file_id": ""}, {"image_url": "x", "file_id": "y"}, {}])
def test_bad_dicts(bad: dict[str, object]) -> None:
    with pytest.raises(BadRequestError) as info:
        to_image(bad)
    assert info.value.param == "input_reference"


def test_unknown_bytes_are_rejected_with_supported_types() -> None:
    with pytest.raises(BadRequestError, match="image/jpeg, image/png, image/webp"):
        to_image(b"GIF89a....")


def test_empty_bytes_and_bad_types() -> None:
    with pytest.raises(BadRequestError, match="empty"):
        to_image(b"")
    with pytest.raises(BadRequestError, match="Unsupported type int"):
        to_image(42)


def test_malformed_data_url() -> None:
    with pytest.raises(BadRequestError, match="base64"):
        to_image("data:image/png;base64,@@@@")
    with pytest.raises(BadRequestError, match="no comma"):
        to_image("data:image/png;base64")


def test_image_list_indexes_the_bad_item() -> None:
    images = image_list([JPEG, ("b.png", PNG, "image/png")])
    assert [i.mime_type for i in images] == ["image/jpeg", "image/png"]
    with pytest.raises(BadRequestError) as info:
        image_list([JPEG, b"nope"])
    assert info.value.param == "reference_images[1]"
    with pytest.raises(BadRequestError, match="list of images"):
        image_list(("a.png", PNG, "image/png"))


def test_sniff_mime() -> None:
    assert sniff_mime(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_mime(b"\x00\x00") is None
