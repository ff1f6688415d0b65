"""The pass-through's calls on a deployment, driven with recorded replies (no network)."""

from __future__ import annotations

import base64
import json

import pytest

from vidgate.errors import APIError, NotFoundError
from vidgate.providers._google_wire import passthrough as wire
from vidgate.providers.base import Credentials, HttpReply, drive
from vidgate.providers.gemini.adapter import GeminiProvider
from vidgate.providers.vertex_ai.adapter import VertexProvider

GEMINI = Credentials(api_key="g-key", api_base="http://gemini.test")
VERTEX = Credentials(
    access_token="tok", project="proj", location="us-central1", api_base="http://vertex.test"
)
BODY = {"instances": [{"prompt": "a fox"}], "parameters": {"durationSeconds": 4}}


def reply(body: object) -> HttpReply:
    return HttpReply(200, {"content-type": "application/json"}, json.dumps(body).encode())


def test_create_forwards_the_body_unchanged_with_the_deployments_credentials() -> None:
    op, [call] = drive(
        wire.create(GeminiProvider(), "veo-3.0-fast-generate-001", BODY, GEMINI),
        [reply({"name": "models/m/operations/1"})],
    )
    assert op == {"name": "models/m/operations/1"}
    assert (call.method, call.url) == (
        "POST",
        "http://gemini.test/v1beta/models/veo-3.0-fast-generate-001:predictLongRunning",
    )
    assert call.json == BODY
    assert call.headers["x-goog-api-key"] == "g-key"
    assert call.retry_safe is False
    _, [vcall] = drive(
        wire.create(VertexProvider(), "veo-3.1-generate-001", BODY, VERTEX), [reply({"name": "n"})]
    )
    assert vcall.url == (
        "http://vertex.test/v1/projects/proj/locations/us-central1/publishers/google/models/veo-3.1-generate-001:predictLongRunning"
    )
    assert vcall.headers["Authorization"] == "Bearer tok"
    with pytest.raises(APIError, match="operation name"):
        drive(wire.create(GeminiProvider(), "m", BODY, GEMINI), [reply({})])


def test_polls_each_service_its_own_way() -> None:
    call = wire.operation_call(GeminiProvider(), "models/m/operations/abc", GEMINI)
    assert (call.method, call.url) == ("GET", "http://gemini.test/v1beta/models/m/operations/abc")
    name = "projects/proj/locations/us-central1/publishers/google/models/m/operations/abc"
    vcall = wire.operation_call(VertexProvider(), name, VERTEX)
    assert (vcall.method, vcall.url) == (
        "POST",
        "http://vertex.test/v1/projects/proj/locations/us-central1/publishers/google/models/m:fetchPredictOperation",
    )
    assert vcall.json == {"operationName": name}


def test_any_sample_of_a_done_operation() -> None:
    gemini_op = {
        "done": True,
        "response": {
            "generateVideoResponse": {
                "generatedSamples": [
                    {
                        "video": {
                            "uri": "https://generativelanguage.googleapis.com/v1beta/files/aaa:download?alt=media"
                        }
                    },
                    {
                        "video": {
                            "uri": "https://generativelanguage.googleapis.com/v1beta/files/bbb:download?alt=media"
                        }
                    },
                ]
            }
        },
    }
    download, calls = drive(
        wire.download_sample(GeminiProvider(), "models/m/operations/1", 1, GEMINI), [reply(gemini_op)]
    )
    assert len(calls) == 1
    assert download.call is not None
    assert download.call.url == "http://gemini.test/v1beta/files/bbb:download"
    assert download.call.params == {"alt": "media"}
    assert download.call.follow_redirects
    vertex_op = {
        "done": True,
        "response": {
            "videos": [
                {"bytesBase64Encoded": base64.b64encode(b"mp4!").decode(), "mimeType": "video/mp4"},
                {"gcsUri": "gs://bucket/dir/sample_1.mp4", "mimeType": "video/mp4"},
            ]
        },
    }
    assert wire.sample_download(VertexProvider(), vertex_op, 0, VERTEX).data == b"mp4!"
    gcs = wire.sample_download(VertexProvider(), vertex_op, 1, VERTEX).call
    assert gcs is not None
    assert gcs.url == "http://vertex.test/storage/v1/b/bucket/o/dir%2Fsample_1.mp4"
    with pytest.raises(NotFoundError):
        wire.sample_download(VertexProvider(), vertex_op, 2, VERTEX)
