"""The images and videos a Runway create carries, in Runway's shapes (runwayml 5.24.0's request types).

``promptImage`` takes an https URL or a base64 data URI. Hailuo3 and the Seedance 2 models also take
``references`` (image references, ``[{uri}]``, up to 9) and ``referenceVideos`` (``[{type: "video",
uri}]``, 15 s in all) on ``text_to_video`` only: their ``image_to_video`` params have neither (Seedance's
``promptImage`` without positions is a reference mode of its own, not used here), so a request with an
``input_reference`` beside references is a 400 naming the references.
"""

from __future__ import annotations

import base64

from vidgate.catalog.images import sniff
from vidgate.errors import BadRequestError
from vidgate.providers.references import reference_video_urls
from vidgate.types import ImageInput, VideoRequest

# Models whose text_to_video takes ``references`` and ``referenceVideos`` (runwayml 5.24.0's
# TextToVideoCreateParams: Hailuo3, Seedance2, Seedance2Fast, Seedance2Mini, Seedance2_5).
TEXT_REFERENCES: frozenset[str] = frozenset(
    {"hailuo3", "seedance2", "seedance2_5", "seedance2_fast", "seedance2_mini"}
)


def image_uri(image: ImageInput, param: str) -> str:
    """An image as Runway takes it: an https URL as is, bytes as a base64 data URI."""
    if image.url is not None:
        if image.url.startswith(("https://", "data:image/")):
            return image.url
        raise BadRequestError(f"Runway takes '{param}' as an https URL or image bytes.", param=param)
    if image.data is not None:
        info = sniff(image.data)
        mime = image.mime_type or (f"image/{info.format}" if info else "image/png")
        return f"data:{mime};base64,{base64.b64encode(image.data).decode('ascii')}"
    raise BadRequestError(
        f"Runway cannot read an uploaded file id in '{param}': send the image bytes or an https URL.",
        param=param,
    )


def _text_only(model: str, req: VideoRequest, param: str) -> None:
    """References go on text_to_video only; the gateway already checked the row offers them."""
    if model not in TEXT_REFERENCES or req.input_reference is not None:
        where = " with an input_reference" if model in TEXT_REFERENCES else ""
        raise BadRequestError(f"Runway's {model} takes no {param}{where}.", param=param)


def reference_images(model: str, req: VideoRequest) -> list[dict[str, str]]:
    """``references``: ``{uri}`` per image (an https URL or a data URI of the bytes)."""
    _text_only(model, req, "reference_images")
    return [{"uri": image_uri(image, "reference_images")} for image in req.reference_images]


def reference_videos(model: str, req: VideoRequest) -> list[dict[str, str]]:
    """``referenceVideos``: ``{type: "video", uri}`` per video, a caller's https URL each."""
    _text_only(model, req, "reference_videos")
    items = [{"type": "video", "uri": url} for url in reference_video_urls(req, "Runway")]
    return items
