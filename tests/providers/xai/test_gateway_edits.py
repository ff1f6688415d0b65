"""Through the gateway, sent by the official ``openai`` package: an edit (``POST /v1/videos/edits``,
the source by ``{"id"}``) and an extension (``POST /v1/videos/extensions``, the source uploaded) of
videos on xAI's legacy ``grok-imagine-video``, run against the xAI emulator and charged once each; a 1.5
model, whose row has neither capability, is a 400 naming the model.

Prices are written out by hand from xAI's price list (field-2026-12.md §4.2): grok-imagine-video $0.05/s
at 480p. An edit is priced at its source's seconds, an extension at the added seconds.
"""

from __future__ import annotations

import openai
import pytest
from tests.support.gateway_admin import GatewayAdmin
from tests.support.media import probe

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")


def finished(client: openai.OpenAI, video_id: str) -> bytes:
    done = client.videos.poll(video_id, poll_interval_ms=100)
    assert done.status == "completed", done
    return client.videos.download_content(video_id).content


def test_openai_sdk_edits_and_extends_on_xai_and_each_is_charged_once(gateway: GatewayAdmin) -> None:
    key = gateway.new_key()
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    source = client.videos.create(
        model="grok",
        prompt="a paper boat on a pond",
        seconds="2",  # type: ignore[arg-type]  # the openai package types Sora's values only
        size="848x480",  # type: ignore[arg-type]
    )
    clip = finished(client, source.id)
    assert gateway.spent(key) == 0.10  # $0.05/s x 2 s
    # openai 3.63.0's multipart encoder refuses ``video={"id": ...}``: an id goes as JSON through the
    # package's own request method; an upload goes through ``videos.extend``.
    edited = client.post(
        "/videos/edits",
        body={"prompt": "make it rain", "video": {"id": source.id}},
        cast_to=openai.types.Video,
    )
    assert (edited.model, edited.seconds, edited.size) == ("grok", "2", "848x480")
    info = probe(finished(client, edited.id))
    assert (info.width, info.height) == (848, 480)
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert gateway.spent(key) == 0.20  # + the edit at the source's 2 s x $0.05
    extended = client.videos.extend(
        prompt="the boat sails on",
        seconds="4",
        video=("boat.mp4", clip, "video/mp4"),
    )
    assert extended.seconds == "4"
    assert probe(finished(client, extended.id)).duration == pytest.approx(6.0, abs=0.1)  # 2 s + 4 s
    assert gateway.spent(key) == 0.40  # + the 4 added seconds x $0.05


def test_a_model_without_the_capability_is_a_400_naming_it(gateway: GatewayAdmin) -> None:
    key = gateway.new_key()
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    source = client.videos.create(
        model="grok-1.5",
        prompt="a kite",
        seconds="1",  # type: ignore[arg-type]
        size="848x480",  # type: ignore[arg-type]
    )
    clip = finished(client, source.id)
    assert gateway.spent(key) == 0.08  # grok-imagine-video-1.5: $0.08/s x 1 s at 480p
    for path, body in (
        ("/videos/edits", {"prompt": "x", "video": {"id": source.id}}),
        ("/videos/extensions", {"prompt": "x", "seconds": "2", "video": {"id": source.id}}),
    ):
        with pytest.raises(openai.BadRequestError) as refused:
            client.post(path, body=body, cast_to=openai.types.Video)
        assert refused.value.param == "model"
        assert "grok-1.5" in refused.value.message
    with pytest.raises(openai.BadRequestError):
        client.videos.edit(
            prompt="x", video=("kite.mp4", clip, "video/mp4"), extra_body={"model": "grok-1.5"}
        )
    assert gateway.spent(key) == 0.08  # nothing more
