"""The azure adapter's flows against recorded replies: v1 URLs, api-key/Bearer, api-version handling."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from tests.support.images import image_bytes

from vidgate.catalog import validate
from vidgate.errors import AuthenticationError, BadRequestError, NotFoundError, RateLimitError
from vidgate.providers.azure.adapter import AzureProvider, v1_api_version
from vidgate.providers.base import Credentials, HttpReply, drive
from vidgate.providers.catalogue import find_model
from vidgate.types import ImageInput, VideoRequest

ENDPOINT = "https://res.openai.azure.com"
CREDS = Credentials(api_key="az-key", api_base=ENDPOINT)
P = AzureProvider()


def video(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "video_abc",
        "object": "video",
        "model": "sora-2",
        "status": "queued",
        "progress": 0,
        "created_at": 1760000000,
        "completed_at": None,
        "expires_at": None,
        "prompt": "a cat",
        "size": "1280x720",
        "seconds": "4",
        "remixed_from_video_id": None,
        "error": None,
    }
    body.update(overrides)
    return body


def ok(body: Any) -> HttpReply:
    return HttpReply(200, {"content-type": "application/json"}, json.dumps(body).encode())


def request(**params: Any) -> VideoRequest:
    spec = find_model("azure/sora-2")
    assert spec is not None
    params.setdefault("prompt", "a cat")
    return validate(spec, **params)


@pytest.mark.parametrize(
    "base",
    [
        ENDPOINT,
        ENDPOINT + "/",
        ENDPOINT + "/openai",
        ENDPOINT + "/openai/v1",
        ENDPOINT + "/openai/v1/",
    ],
)
def test_v1_videos_url_from_any_form_of_the_endpoint(base: str) -> None:
    creds = Credentials(api_key="k", api_base=base)
    _, calls = drive(P.retrieve("video_abc", creds), [ok(video())])
    assert calls[0].url == f"{ENDPOINT}/openai/v1/videos/video_abc"


def test_create_uses_api_key_header_deployment_and_preview_version() -> None:
    job, calls = drive(P.create(request(seconds=8, size="1280x720"), CREDS), [ok(video(seconds="8"))])
    call = calls[0]
    assert (call.method, call.url) == ("POST", f"{ENDPOINT}/openai/v1/videos")
    assert call.headers == {"api-key": "az-key"}
    assert dict(call.params) == {"api-version": "preview"}
    assert call.json == {"model": "sora-2", "prompt": "a cat", "seconds": "8", "size": "1280x720"}
    assert call.retry_safe is False
    assert job.native_id == "video_abc"


def test_create_with_image_is_multipart_like_openai() -> None:
    png = image_bytes(720, 1280, "png")  # the first frame at exactly the video's size
    _, calls = drive(P.create(request(input_reference=ImageInput(data=png)), CREDS), [ok(video())])
    assert calls[0].data == {"model": "sora-2", "prompt": "a cat", "seconds": "4", "size": "720x1280"}
    assert calls[0].files == [("input_reference", ("input_reference.png", png, "image/png"))]
    assert dict(calls[0].params) == {"api-version": "preview"}


def test_access_token_is_sent_as_bearer_instead_of_the_key() -> None:
    creds = Credentials(api_key="az-key", access_token="entra-token", api_base=ENDPOINT)
    _, calls = drive(P.retrieve("video_abc", creds), [ok(video())])
    assert calls[0].headers == {"Authorization": "Bearer entra-token"}


def test_every_operation_carries_api_version() -> None:
    creds = Credentials(api_key="k", api_base=ENDPOINT, api_version="v1")
    download, _ = drive(P.download("video_abc", "thumbnail", creds), [])
    assert download.call is not None
    assert download.call.url == f"{ENDPOINT}/openai/v1/videos/video_abc/content"
    assert dict(download.call.params) == {"api-version": "v1", "variant": "thumbnail"}
    assert download.media_type == "image/webp"
    _, calls = drive(P.remix("video_abc", "again", creds), [ok(video(remixed_from_video_id="video_abc"))])
    assert dict(calls[0].params) == {"api-version": "v1"}
    assert calls[0].json == {"prompt": "again"}
    _, calls = drive(P.list(creds, after=None, limit=5, order="desc"), [ok({"object": "list", "data": []})])
    assert dict(calls[0].params) == {"api-version": "v1", "limit": "5", "order": "desc"}
    deleted, calls = drive(
        P.delete("video_abc", creds), [ok({"id": "video_abc", "object": "video.deleted", "deleted": True})]
    )
    assert (calls[0].method, dict(calls[0].params), deleted) == ("DELETE", {"api-version": "v1"}, True)


@pytest.mark.parametrize(
    ("configured", "sent"), [(None, "preview"), ("", "preview"), ("preview", "preview"), ("v1", "v1")]
)
def test_accepted_api_versions_are_sent_as_configured(configured: str | None, sent: str) -> None:
    assert v1_api_version(configured) == sent


def test_dated_api_version_is_replaced_by_preview_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    creds = Credentials(api_key="k", api_base=ENDPOINT, api_version="2031-02-15-preview")
    with caplog.at_level(logging.WARNING, logger="vidgate.providers.azure.adapter"):
        _, calls = drive(P.retrieve("video_abc", creds), [ok(video())])
        drive(P.retrieve("video_abc", creds), [ok(video())])
    assert dict(calls[0].params) == {"api-version": "preview"}
    warnings = [r for r in caplog.records if "2031-02-15-preview" in r.getMessage()]
    assert len(warnings) == 1  # once per value, not once per request
    assert "api-version=preview" in warnings[0].getMessage()


def test_unrecognised_api_version_is_a_clear_error() -> None:
    creds = Credentials(api_key="k", api_base=ENDPOINT, api_version="latest-and-greatest")
    with pytest.raises(BadRequestError) as info:
        drive(P.retrieve("video_abc", creds), [])
    assert info.value.param == "api_version"
    assert "'preview' and 'v1'" in info.value.message


def test_missing_endpoint_or_key_fails_before_any_call() -> None:
    with pytest.raises(BadRequestError) as info:
        drive(P.retrieve("video_abc", Credentials(api_key="k")), [])
    assert info.value.param == "api_base"
    with pytest.raises(AuthenticationError, match="AZURE_OPENAI_API_KEY"):
        drive(P.retrieve("video_abc", Credentials(api_base=ENDPOINT)), [])


def test_unknown_deployment_404_maps_to_not_found_with_azure_type() -> None:
    body = {
        "error": {
            "message": "The API deployment 'sora-9' for this resource does not exist.",
            "type": "video_generation_user_error",
            "param": None,
            "code": None,
        }
    }
    e = P.error_for(HttpReply(404, {}, json.dumps(body).encode()))
    assert isinstance(e, NotFoundError)
    assert (e.type, e.provider) == ("video_generation_user_error", "azure")
    assert "sora-9" in e.message


def test_azure_gateway_error_shapes() -> None:
    body = {
        "error": {
            "code": "401",
            "message": "Access denied due to invalid subscription key or wrong API endpoint.",
        }
    }
    e = P.error_for(HttpReply(401, {}, json.dumps(body).encode()))
    assert isinstance(e, AuthenticationError)
    assert (e.code, e.message) == (
        "401",
        "Access denied due to invalid subscription key or wrong API endpoint.",
    )
    body = {"error": {"code": "429", "message": "Rate limit exceeded. Please retry after 3 seconds."}}
    e = P.error_for(HttpReply(429, {"retry-after": "3"}, json.dumps(body).encode()))
    assert isinstance(e, RateLimitError)
    assert e.retry_after == 3.0
