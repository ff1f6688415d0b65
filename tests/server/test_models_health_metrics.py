"""/v1/models per key, liveness, and the Prometheus scrape (readiness: test_health.py)."""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.server.conftest import MASTER, Served, auth

from vidgate.errors import InternalServerError, ServiceUnavailableError, UnsupportedOperationError
from vidgate.gateway.config import parse_config
from vidgate.server.app import create_app
from vidgate.server.metrics import Metrics
from vidgate.store.memory import MemoryStores


async def test_models_lists_what_the_key_may_use(served: Served) -> None:
    everything = await served.client.get("/v1/models", headers=auth(MASTER))
    assert everything.status_code == 200
    body = everything.json()
    assert body["object"] == "list"
    assert {m["id"] for m in body["data"]} == {"local-1", "local-free"}
    assert all(m["object"] == "model" and "created" in m and "owned_by" in m for m in body["data"])
    key = await served.new_key(models=["local-free"])
    limited = await served.client.get("/v1/models", headers=auth(key))
    assert [m["id"] for m in limited.json()["data"]] == ["local-free"]
    refused = await served.client.post(
        "/v1/videos",
        json={"model": "local-1", "prompt": "p", "seconds": "1", "size": "320x180"},
        headers=auth(key),
    )
    assert refused.status_code == 404
    assert refused.json()["error"]["param"] == "model"


async def test_a_model_is_retrieved_as_the_list_shows_it(served: Served) -> None:
    listed = (await served.client.get("/v1/models", headers=auth(MASTER))).json()["data"]
    for prefix in ("/v1", ""):
        got = await served.client.get(f"{prefix}/models/local-free", headers=auth(MASTER))
        assert got.status_code == 200
        assert got.json() == next(m for m in listed if m["id"] == "local-free")


async def test_a_model_the_key_may_not_use_is_the_same_404_as_one_that_does_not_exist(served: Served) -> None:
    key = await served.new_key(models=["local-free"])
    assert (await served.client.get("/v1/models/local-free", headers=auth(key))).status_code == 200
    forbidden = await served.client.get("/v1/models/local-1", headers=auth(key))
    unknown = await served.client.get("/v1/models/nope", headers=auth(key))
    assert forbidden.status_code == unknown.status_code == 404
    assert forbidden.json() == {
        "error": {
            "message": "The model 'local-1' does not exist or you do not have access to it. "
            "Models available to this key: local-free.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }
    assert unknown.json()["error"]["message"].startswith("The model 'nope' does not exist")
    assert (await served.client.get("/v1/models/local-1")).status_code == 401


async def test_a_model_name_holding_slashes_is_retrieved(local_root: Path) -> None:
    entry = {
        "model_name": "acme/video/v2",
        "litellm_params": {"model": "local/local-1", "api_base": str(local_root)},
    }
    config = parse_config({"model_list": [entry], "general_settings": {"master_key": MASTER}}, environ={})
    app = create_app(config, stores=MemoryStores())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            got = await client.get("/v1/models/acme/video/v2", headers=auth(MASTER))
    assert got.status_code == 200
    assert got.json()["id"] == "acme/video/v2"
    assert got.json()["owned_by"] == "local"


async def test_liveness(served: Served) -> None:
    assert (await served.client.get("/health/liveness")).json() == {"status": "alive"}
    assert (await served.client.get("/health/liveliness")).status_code == 200


async def test_metrics_count_requests_jobs_and_spend(served: Served) -> None:
    key = await served.new_key()
    video = await served.create(key)
    await served.wait_done(key, video["id"])
    await served.client.get("/v1/videos/video_unknown", headers=auth(key))
    scrape = await served.client.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    text = scrape.text
    assert 'vidgate_requests_total{method="POST",route="/v1/videos",status="200"}' in text
    assert 'vidgate_requests_total{method="GET",route="/v1/videos/{video_id}",status="404"} 1.0' in text
    assert (
        'vidgate_request_duration_seconds_bucket{le="0.005",method="GET",route="/v1/videos/{video_id}"}'
        in text
    )
    assert 'vidgate_jobs{status="completed"} 1.0' in text
    assert "vidgate_spend_usd 0.1" in text
    assert "vidgate_upstream_errors" in text
    assert "_created" not in text
    assert 'vidgate_jobs_submitted_total{model="local-1"} 1.0' in text


async def test_metrics_count_upstream_errors_no_client_sees(served: Served) -> None:
    key = await served.new_key()
    video = await served.create(key)
    service = served.app.state.vidgate.service

    async def unavailable(dep: object, native_id: str) -> object:
        raise ServiceUnavailableError("upstream down", provider="local")

    service.calls.retrieve = unavailable  # every status poll of the provider now fails
    job = await served.stores.jobs.get(video["id"])
    assert job is not None
    job.next_poll_at = 0.0  # stale: the next GET refreshes it from the provider
    assert await served.stores.jobs.save(job)
    polled = await served.client.get(f"/v1/videos/{video['id']}", headers=auth(key))
    assert polled.status_code == 200  # the client sees the stored state; the poll error backs off
    text = (await served.client.get("/metrics")).text
    assert 'vidgate_upstream_errors_total{provider="local",status="503"} 1.0' in text


async def test_metrics_count_creates_answered_late_by_what_became_of_the_providers_job(
    served: Served,
) -> None:
    observers = served.app.state.vidgate.service.observers
    observers.answered_late("local", "cancel_failed")
    observers.answered_late("local", "cancel_failed")
    observers.answered_late("local", "cancelled")
    text = (await served.client.get("/metrics")).text
    assert 'vidgate_creates_answered_late_total{outcome="cancel_failed",provider="local"} 2.0' in text
    assert 'vidgate_creates_answered_late_total{outcome="cancelled",provider="local"} 1.0' in text


async def test_a_providers_500_on_content_is_a_502_counted_under_the_providers_status(served: Served) -> None:
    key = await served.new_key()
    video = await served.create(key)
    await served.wait_done(key, video["id"])
    service = served.app.state.vidgate.service

    def broken(*args: object) -> object:
        raise InternalServerError("upstream storage broke", provider="local")

    service.calls.download_flow = broken  # the live download fails (the served app copies no content)
    reply = await served.client.get(f"/v1/videos/{video['id']}/content", headers=auth(key))
    assert reply.status_code == 502
    assert reply.json()["error"]["type"] == "upstream_error"
    text = (await served.client.get("/metrics")).text
    assert 'vidgate_upstream_errors_total{provider="local",status="500"} 1.0' in text


async def test_spend_metric_counts_the_master_keys_and_deleted_keys_spend(served: Served) -> None:
    key = await served.new_key()
    for caller in (key, MASTER):
        video = await served.create(caller)
        await served.wait_done(caller, video["id"])
    deleted = await served.client.post("/key/delete", json={"keys": [key]}, headers=auth(MASTER))
    assert deleted.status_code == 200, deleted.text
    assert "vidgate_spend_usd 0.2" in (await served.client.get("/metrics")).text


def test_an_operation_refused_by_its_declaration_is_no_upstream_error_but_one_the_server_refused_is() -> None:
    """A remix of a model whose catalogue row has none is refused before any provider call: counting
    it as the provider's error would page someone about a provider that was never asked."""
    metrics = Metrics()
    metrics.count_request_error(UnsupportedOperationError("remix", "gemini"))
    metrics.count_request_error(UnsupportedOperationError("edit", "openai_compatible", answered=True))
    text = metrics.render().decode()
    assert 'vidgate_upstream_errors_total{provider="gemini"' not in text
    assert 'vidgate_upstream_errors_total{provider="openai_compatible",status="400"} 1.0' in text
