"""The OpenRouter request shape (LiteLLM 1.110.2 copies it), read onto vidgate's own parameters.

``duration`` -> ``seconds``; ``resolution`` + ``aspect_ratio`` -> one of the row's ``size``s;
``frame_images`` (``first_frame``/``last_frame``) -> ``input_reference``/``last_frame``;
``input_references`` -> ``reference_images`` (its ``video_url`` items, vidgate's extension of the shape:
``reference_videos``, by URL only); ``generate_audio`` and ``seed`` are vidgate's names already. Two
spellings of one thing that disagree (``seconds`` vs ``duration``, ``size`` vs ``resolution``/
``aspect_ratio``, ``frame_images`` beside ``input_reference``/``last_frame``/ image ``input_references``,
two frames of one ``frame_type``) are a 400 naming both: never a silent pick,
since the one picked is what is priced.

``provider: {options: {"<provider>": {...}}}`` passes native fields to the provider serving the request:
the entry named by that deployment's vidgate provider (``vertex_ai``, ``gemini``, ``fal``, ...) is added
to ``extra_body``, through the same reserved-parameter check (``provider_options``, ``merge_options``);
entries for other providers are ignored (a request can carry options for each provider it may be
routed to), and so are OpenRouter's routing preferences (``order``, ``only``, ``sort``, ...): they choose
among OpenRouter's upstreams, a vidgate deployment has one. OpenRouter's own slugs (``google-vertex``)
are not vidgate's names and match nothing.

``OpenRouterBody`` is the wire shape (pydantic, so an OpenAPI generator can read it); ``parse`` turns
it into ``OpenRouterFields``, which ``fold`` maps onto ``validate``'s keyword arguments per catalogue
row (tiers and sizes are per row), before ``validate`` runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vidgate.catalog.ratios import ratio_of, ratios, sizes_for
from vidgate.catalog.spec import ModelSpec
from vidgate.catalog.urls import check_url, is_private_host
from vidgate.errors import BadRequestError, invalid_value
from vidgate.types import ImageInput, SourceVideo

# A parse bound; the row's ``max_reference_images`` / ``max_reference_videos`` are the real limits.
MAX_INPUT_REFERENCES = 16
MAX_VIDEO_URL = 2048  # characters of a reference video's URL (the callback URL's bound)
#: The setting that lets callers name private hosts (shared with ``callback_url``, ``gateway.callbacks``).
ALLOW_PRIVATE_SETTING = "general_settings.allow_private_callback_urls"
MAX_DURATION = 600
IMAGE_URL_SCHEMES = ("http://", "https://", "data:")  # the rule ``input_reference[image_url]`` has
#: The create fields this module reads (besides vidgate's ``size``, ``seed``, ``generate_audio``).
FIELDS: tuple[str, ...] = (
    "duration",
    "resolution",
    "aspect_ratio",
    "frame_images",
    "input_references",
    "callback_url",
    "provider",
)


class ImageUrl(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    url: str = Field(min_length=1)


class FrameImage(BaseModel):
    """``{type: "image_url", image_url: {url}, frame_type: "first_frame"|"last_frame"}``."""

    model_config = ConfigDict(extra="forbid", strict=True)
    type: Literal["image_url"] = "image_url"
    image_url: ImageUrl
    frame_type: Literal["first_frame", "last_frame"]


class InputReference(BaseModel):
    """``{type: "image_url", image_url: {url}}``: a reference image (style, subject)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    type: Literal["image_url"] = "image_url"
    image_url: ImageUrl


class VideoUrl(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    url: str = Field(min_length=1, max_length=MAX_VIDEO_URL)


class VideoReference(BaseModel):
    """``{type: "video_url", video_url: {url}}``: a reference video (motion, subject, style), an https
    URL the provider fetches (the gateway never does). vidgate's extension of OpenRouter's shape."""

    model_config = ConfigDict(extra="forbid", strict=True)
    type: Literal["video_url"]
    video_url: VideoUrl


class ProviderPreferences(BaseModel):
    """``provider``: only ``options`` (provider name -> native fields) means something to vidgate."""

    model_config = ConfigDict(extra="ignore", strict=True)
    options: dict[str, dict[str, Any]] | None = None


class OpenRouterBody(BaseModel):
    """The OpenRouter-only fields of ``POST /v1/videos`` (the others are OpenAI's or vidgate's)."""

    model_config = ConfigDict(extra="ignore", strict=True)
    duration: int | None = Field(default=None, ge=1, le=MAX_DURATION)
    resolution: str | None = Field(default=None, min_length=1, max_length=32)
    aspect_ratio: str | None = Field(default=None, min_length=1, max_length=16)
    frame_images: list[FrameImage] | None = Field(default=None, min_length=1, max_length=2)
    # Each item is an ``InputReference`` or a ``VideoReference``, read one by one (``_reference``) so
    # that a 400 names the item's own path rather than a union branch.
    input_references: list[Any] | None = Field(default=None, min_length=1, max_length=MAX_INPUT_REFERENCES)
    callback_url: str | None = Field(default=None, min_length=1)
    provider: ProviderPreferences | None = None


@dataclass(frozen=True)
class OpenRouterFields:
    """What a create said in OpenRouter's terms (None / empty: not given)."""

    duration: int | None = None
    resolution: str | None = None
    aspect_ratio: str | None = None
    first_frame: ImageInput | None = None
    last_frame: ImageInput | None = None
    input_references: tuple[ImageInput, ...] | None = None  # the image_url items
    reference_videos: tuple[SourceVideo, ...] | None = None  # the video_url items (by URL)
    provider_options: Mapping[str, Mapping[str, Any]] | None = None  # provider name -> native fields

    @property
    def frames_given(self) -> bool:
        return self.first_frame is not None or self.last_frame is not None

    def given(self) -> list[str]:
        """The OpenRouter names this request used (for messages and for drop_params)."""
        names = [
            name
            for name, value in (
                ("duration", self.duration),
                ("resolution", self.resolution),
                ("aspect_ratio", self.aspect_ratio),
                ("input_references", self.input_references or self.reference_videos),
            )
            if value is not None
        ]
        options = ["provider.options"] if self.provider_options is not None else []
        return (["frame_images"] if self.frames_given else []) + names + options


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _form_int(value: Any) -> Any:
    """Form fields are text: ``"8"`` reads as 8 (ASCII digits only); anything else stays for the model
    to refuse with its type error."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9:
        return int(value)
    return value


_NOTHING = OpenRouterFields()


def _indexed(value: Any) -> Any:
    """Form fields indexed as ``frame_images[0][frame_type]`` arrive as ``{"0": {...}}``: a list, in
    index order (``frame_images[][frame_type]`` arrives as a list already)."""
    if (
        isinstance(value, dict)
        and value
        and all(isinstance(k, str) and k.isascii() and k.isdigit() for k in value)
    ):
        return [value[k] for k in sorted(value, key=int)]
    return value


def _invalid_at(exc: ValidationError, prefix: tuple[int | str, ...] = ()) -> BadRequestError:
    first = exc.errors()[0]
    where = _path(prefix + tuple(first["loc"]))
    return BadRequestError(f"Invalid '{where}': {first['msg']}.", param=where, code="invalid_value")


def parse(
    body: Mapping[str, Any], *, allow_private_urls: bool = False
) -> tuple[OpenRouterFields, str | None]:
    """The OpenRouter fields of ``body`` and its ``callback_url`` (checked by the gateway's policy).

    A value of the wrong shape is a 400 naming its path (``frame_images[0].frame_type``). A reference
    video's URL must be https, and (unless ``allow_private_urls``: the operator's setting in a gateway;
    a direct-mode SDK call, where the caller's own key is used) name a public host."""
    present = {name: body[name] for name in FIELDS if name in body and body[name] is not None}
    if not present:  # most creates: nothing in OpenRouter's terms (no model to validate)
        return _NOTHING, None
    for name in ("resolution", "aspect_ratio", "callback_url", "duration"):
        if isinstance(present.get(name), str) and not present[name].strip():
            raise BadRequestError(
                f"Invalid '{name}': empty string. Give a value, or omit '{name}' to use the default.",
                param=name,
                code="empty_value",
            )
    if "provider" in present and not isinstance(present["provider"], dict):
        raise BadRequestError(
            'Invalid \'provider\': expected an object such as {"options": {"<provider>": {...}}}.',
            param="provider",
            code="invalid_type",
        )
    if "duration" in present:
        present["duration"] = _form_int(present["duration"])
    for name in ("frame_images", "input_references"):
        if name in present:
            present[name] = _indexed(present[name])
    try:
        wire = OpenRouterBody.model_validate(present)
    except ValidationError as exc:
        raise _invalid_at(exc) from None
    first_frame: ImageInput | None = None
    last_frame: ImageInput | None = None
    for index, frame in enumerate(wire.frame_images or ()):
        image = _image(frame.image_url.url, f"frame_images[{index}].image_url.url")
        if frame.frame_type == "first_frame":
            if first_frame is not None:
                raise _duplicate_frame(index, "first_frame")
            first_frame = image
        else:
            if last_frame is not None:
                raise _duplicate_frame(index, "last_frame")
            last_frame = image
    images: list[ImageInput] = []
    videos: list[SourceVideo] = []
    for i, item in enumerate(wire.input_references or ()):
        ref = _reference(item, i)
        if isinstance(ref, VideoReference):
            param = f"input_references[{i}].video_url.url"
            videos.append(SourceVideo(url=_video_url(ref.video_url.url, param, allow_private_urls)))
        else:
            images.append(_image(ref.image_url.url, f"input_references[{i}].image_url.url"))
    fields = OpenRouterFields(
        duration=wire.duration,
        resolution=wire.resolution,
        aspect_ratio=wire.aspect_ratio,
        first_frame=first_frame,
        last_frame=last_frame,
        input_references=tuple(images) if images else None,
        reference_videos=tuple(videos) if videos else None,
        provider_options=None if wire.provider is None else wire.provider.options,
    )
    if fields.frames_given and fields.input_references is not None:
        raise conflict("frame_images", "input_references", "first/last frames and reference images")
    return fields, wire.callback_url


def _reference(item: object, index: int) -> InputReference | VideoReference:
    """One ``input_references`` item: a video by its ``type``, else an image (whose ``type`` is optional)."""
    is_video = isinstance(item, dict) and item.get("type") == "video_url"
    try:
        if is_video:
            return VideoReference.model_validate(item)
        return InputReference.model_validate(item)
    except ValidationError as exc:
        raise _invalid_at(exc, ("input_references", index)) from None


def _video_url(url: str, param: str, allow_private: bool) -> str:
    """A reference video's URL: https (the provider fetches it; the gateway never does, so no data: URL
    and no bytes pass through here), and a public host unless the operator allows private ones."""

    def bad(reason: str) -> BadRequestError:
        return BadRequestError(f"Invalid '{param}': {reason}", param=param, code="invalid_value")

    host = check_url(url, schemes=("https",), max_length=MAX_VIDEO_URL, bad=bad)
    if not allow_private and is_private_host(host):
        raise bad(
            f"'{host}' is a private, loopback or link-local address; reference videos must be on public "
            f"hosts (an operator can allow private ones with {ALLOW_PRIVATE_SETTING})."
        )
    return url


def _image(url: str, param: str) -> ImageInput:
    """An image URL, by the rule ``input_reference[image_url]`` has: the gateway never fetches it (the
    provider does, or it is a data: URL the gateway decodes), so no gateway-side request is made."""
    if not url.startswith(IMAGE_URL_SCHEMES):
        raise BadRequestError(
            f"Invalid '{param}': expected an https:// or data: URL.", param=param, code="invalid_value"
        )
    return ImageInput(url=url)


def _duplicate_frame(index: int, frame_type: str) -> BadRequestError:
    return BadRequestError(
        f"Invalid 'frame_images[{index}].frame_type': '{frame_type}' is given twice; give at most one "
        "first_frame and one last_frame.",
        param=f"frame_images[{index}].frame_type",
        code="duplicate_frame_type",
    )


def conflict(ours: str, theirs: str, detail: str) -> BadRequestError:
    """Two parameters that say the same thing differently: a 400 naming both."""
    return BadRequestError(
        f"Conflicting parameters '{ours}' and '{theirs}' ({detail}): give one of them.",
        param=theirs,
        code="conflicting_parameters",
    )


def check_conflicts(fields: OpenRouterFields, request: Mapping[str, Any]) -> None:
    """The conflicts between the OpenRouter fields and vidgate's own that no catalogue row is needed
    for. ``request`` holds ``validate``'s keyword arguments as given."""
    seconds = request.get("seconds")
    if fields.duration is not None and seconds is not None and str(seconds) != str(fields.duration):
        raise conflict("seconds", "duration", f"'{seconds}' vs {fields.duration}")
    if fields.frames_given and request.get("input_reference") is not None:
        raise conflict("input_reference", "frame_images", "two first frames")
    if fields.frames_given and request.get("last_frame") is not None:
        raise conflict("last_frame", "frame_images", "two last frames")
    if fields.input_references is not None and request.get("reference_images"):
        raise conflict("reference_images", "input_references", "two lists of reference images")
    size = request.get("size")
    if isinstance(size, str) and fields.aspect_ratio is not None:
        ratio = ratio_of(size)
        if ratio is not None and ratio != fields.aspect_ratio:
            raise conflict("size", "aspect_ratio", f"'{size}' is {ratio}, not {fields.aspect_ratio}")


def provider_options(fields: OpenRouterFields, provider: str) -> tuple[str, dict[str, Any]]:
    """The ``provider.options`` entry of ``provider`` (the deployment's vidgate provider name) and its
    path for messages; ``{}`` when the request has none for it. The caller checks it against the
    adapter's reserved names (``providers.reserved``) before ``merge_options``."""
    given = (fields.provider_options or {}).get(provider)
    return f"provider.options.{provider}", dict(given or {})


def merge_options(
    extra_body: Mapping[str, Any] | None, options: Mapping[str, Any], path: str
) -> dict[str, Any]:
    """``extra_body`` with ``options`` added; a field given in both is a 400 naming both (never a silent
    pick: either could be the one the provider reads)."""
    out = dict(extra_body or {})
    for key, value in options.items():
        if key in out:
            raise conflict(f"extra_body.{key}", f"{path}.{key}", "one provider field given twice")
        out[key] = value
    return out


def resolutions(spec: ModelSpec) -> list[str]:
    """The row's resolution tiers, lowest first."""
    return sorted(set(spec.sizes.values()), key=_tier_key)


def _tier_key(tier: str) -> tuple[int, str]:
    digits = "".join(ch for ch in tier if ch.isdigit())
    value = int(digits) if digits else 0
    return (value * 1000 if tier.lower().endswith("k") else value, tier)


def _tier_named(spec: ModelSpec, resolution: str) -> str | None:
    """The row's tier ``resolution`` names: its own spelling, case aside (``720P`` is ``720p``)."""
    wanted = resolution.strip().lower()
    return next((tier for tier in resolutions(spec) if tier.lower() == wanted), None)


def size_for(spec: ModelSpec, size: str | None, resolution: str | None, ratio: str | None) -> str | None:
    """The size a request asks for: ``size`` itself (checked against the pair when both are given), or
    the row's size at (``resolution``, ``ratio``). A missing half of the pair is taken from the row's
    default size when the row has that combination."""
    if resolution is None and ratio is None:
        return size
    if not spec.sizes:  # an open-size row lists no tiers or ratios to pick from
        param = "resolution" if resolution is not None else "aspect_ratio"
        raise BadRequestError(
            f"Model '{spec.id}' lists no sizes to pick from by '{param}'; give 'size' as WIDTHxHEIGHT.",
            param=param,
            code="unsupported_parameter",
        )
    tier = None
    if resolution is not None:
        tier = _tier_named(spec, resolution)
        if tier is None and _tier_named(spec.with_deployment_price(), resolution) is not None:
            raise spec.unpriced_size("resolution", resolution)  # a tier only a self-priced deployment serves
        if tier is None:
            raise invalid_value("resolution", resolution, resolutions(spec))
    if ratio is not None and ratio not in ratios(spec):
        raise invalid_value("aspect_ratio", ratio, ratios(spec))
    if size is not None:
        if size in spec.sizes and tier is not None and spec.sizes[size] != tier:
            raise conflict("size", "resolution", f"'{size}' is {spec.sizes[size]}, not {resolution}")
        if ratio is not None and ratio_of(size) not in (None, ratio):
            raise conflict("size", "aspect_ratio", f"'{size}' is {ratio_of(size)}, not {ratio}")
        return size
    if tier is not None and ratio is not None:
        found = sizes_for(spec, resolution=tier, ratio=ratio)
    elif tier is not None:  # the default size's aspect ratio at that tier, else the tier's first size
        found = sizes_for(spec, resolution=tier, ratio=ratio_of(spec.default_size))
        found = found or sizes_for(spec, resolution=tier, ratio=None)
    else:  # that aspect ratio at the default size's tier, else its first size at any tier
        found = sizes_for(spec, resolution=spec.sizes.get(spec.default_size), ratio=ratio)
        found = found or sizes_for(spec, resolution=None, ratio=ratio)
    if not found and resolution is not None and _self_priced_pair(spec, tier, ratio):
        raise spec.unpriced_size("resolution", resolution)
    if not found:
        pairs = sorted({f"{spec.sizes[s]} {ratio_of(s)}" for s in spec.sizes}, key=str)
        raise BadRequestError(
            f"Invalid combination of 'resolution' ({resolution}) and 'aspect_ratio' ({ratio}): "
            f"{spec.id} offers {', '.join(pairs)}.",
            param="aspect_ratio",
            code="invalid_value",
        )
    return found[0]


def _self_priced_pair(spec: ModelSpec, tier: str | None, ratio: str | None) -> bool:
    """Whether a deployment-priced size has this tier and aspect ratio (a catalogue tier may have more
    sizes on a deployment with its own price)."""
    return any(
        size_tier == tier and ratio in (None, ratio_of(size))
        for size, size_tier in spec.deployment_priced_sizes.items()
    )


def unsupported(spec: ModelSpec, param: str) -> BadRequestError:
    return BadRequestError(
        f"Model '{spec.id}' does not support '{param}'.", param=param, code="unsupported_parameter"
    )


def fold(
    spec: ModelSpec, fields: OpenRouterFields, request: Mapping[str, Any], *, drop: bool = False
) -> tuple[dict[str, Any], list[str]]:
    """``validate``'s keyword arguments with ``fields`` folded in for ``spec``, and the OpenRouter
    fields dropped because the model has no support for them (only with ``drop``; else that is a 400
    naming the field). A value the model does not offer (a resolution, a duration) is always a 400."""
    check_conflicts(fields, request)
    out = dict(request)
    dropped: list[str] = []
    if fields.duration is not None:
        out["seconds"] = out.get("seconds") if out.get("seconds") is not None else fields.duration
    out["size"] = size_for(spec, out.get("size"), fields.resolution, fields.aspect_ratio)
    if fields.frames_given:
        needs = ["image_input"] + (["last_frame"] if fields.last_frame is not None else [])
        if not all(spec.has(feature) for feature in needs):
            if not drop:
                raise unsupported(spec, "frame_images")
            dropped.append("frame_images")
        elif fields.first_frame is None:
            raise BadRequestError(
                "Invalid 'frame_images': a last_frame needs a first_frame.",
                param="frame_images",
                code="invalid_value",
            )
        else:
            out["input_reference"] = fields.first_frame
            out["last_frame"] = fields.last_frame
    dropped += _fold_references(spec, fields, out, drop=drop)
    return out, dropped


def _fold_references(
    spec: ModelSpec, fields: OpenRouterFields, out: dict[str, Any], *, drop: bool
) -> list[str]:
    """``input_references`` onto ``out`` (images -> ``reference_images``, videos -> ``reference_videos``);
    the names dropped: ``input_references`` when nothing of it is kept, else the kind left out
    (``input_references.video_url`` / ``input_references.image_url``)."""
    images, videos = fields.input_references, fields.reference_videos
    lost: list[str] = []
    if videos is not None:
        if not spec.has("reference_videos"):
            if not drop:
                raise BadRequestError(
                    f"Model '{spec.id}' does not support reference videos ('input_references' items of "
                    f"type video_url){spec.unpriced_note('reference_videos')}.",
                    param="input_references",
                    code="unsupported_parameter",
                )
            lost.append("video_url")
        elif len(videos) > spec.max_reference_videos:
            raise BadRequestError(
                f"At most {spec.max_reference_videos} reference videos (input_references of type "
                f"video_url) are allowed for {spec.id}, got {len(videos)}.",
                param="input_references",
                code="invalid_value",
            )
        else:
            out["reference_videos"] = videos
    if images is not None:
        if not spec.has("reference_images"):
            if not drop:
                raise BadRequestError(
                    f"Model '{spec.id}' does not support 'input_references'"
                    f"{spec.unpriced_note('reference_images')}.",
                    param="input_references",
                    code="unsupported_parameter",
                )
            lost.append("image_url")
        elif len(images) > spec.max_reference_images:
            raise BadRequestError(
                f"At most {spec.max_reference_images} input_references are allowed for {spec.id}, "
                f"got {len(images)}.",
                param="input_references",
                code="invalid_value",
            )
        else:
            out["reference_images"] = images
    kinds = {kind for kind, given in (("image_url", images), ("video_url", videos)) if given is not None}
    if not lost:
        return []
    return ["input_references"] if set(lost) == kinds else [f"input_references.{kind}" for kind in lost]
