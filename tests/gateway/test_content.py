"""gateway.content.live: a provider's failure to hand over a finished video is the provider's fault."""

from __future__ import annotations

import pytest
from tests.gateway.harness import Gateway

from vidgate.errors import (
    APIError,
    InternalServerError,
    NotFoundError,
    ServiceUnavailableError,
    Timeout,
    UpstreamError,
)
from vidgate.gateway.content import ContentStream, live


async def _live(gw: Gateway) -> ContentStream:
    """A finished local video's bytes, asked of its provider."""
    video = await gw.create(await gw.new_key("alice"))
    gw.finish_local_jobs()
    job = await gw.stores.jobs.get(video.id)
    assert job is not None
    dep = gw.service.router.get(job.deployment_id)
    assert dep is not None
    return await live(gw.service.calls, dep, job, "video", None)


@pytest.mark.parametrize(
    "failure",
    [
        InternalServerError("the provider broke", provider="local", retry_after=3),
        ServiceUnavailableError("the provider is down", retry_after=3),
    ],
)
async def test_a_providers_5xx_is_a_502_with_its_words(gw: Gateway, failure: APIError) -> None:
    """502 ``upstream_error`` (it was the provider's status: a 500 read as the gateway's own), the
    provider's message and Retry-After kept, and its status kept for the upstream-error metric."""
    gw.local.fail_downloads = failure
    with pytest.raises(UpstreamError) as info:
        await _live(gw)
    err = info.value
    assert (err.status_code, err.type, err.provider, err.permanent) == (502, "upstream_error", "local", False)
    assert (err.message, err.retry_after, err.provider_status) == (failure.message, 3, failure.status_code)


@pytest.mark.parametrize(
    "failure",
    [
        NotFoundError("expired", provider="local"),
        Timeout("slow", provider="local", status_code=504),
        UpstreamError("cannot render", provider="local", permanent=True),
    ],
)
async def test_other_provider_errors_pass_as_they_are(gw: Gateway, failure: APIError) -> None:
    gw.local.fail_downloads = failure
    with pytest.raises(APIError) as info:
        await _live(gw)
    assert info.value is failure
