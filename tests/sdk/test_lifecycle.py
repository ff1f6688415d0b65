"""Lifecycle dates are data: a warning for deprecated/retiring/retired models, and the call still goes out."""

from __future__ import annotations

import datetime as dt
import warnings

import httpx
import pytest

from vidgate import Client, LifecycleWarning
from vidgate.catalog import ModelSpec
from vidgate.providers.catalogue import find_model
from vidgate.sdk.lifecycle import lifecycle_message


def spec(model_id: str) -> ModelSpec:
    found = find_model(model_id)
    assert found is not None
    return found


def test_messages_follow_the_catalogue_dates() -> None:
    sora = spec("openai/sora-2")  # deprecated 2026-08-13, retired 2026-09-24
    assert lifecycle_message(sora, dt.date(2026, 1, 1)) is None
    assert "retires on 2026-09-24" in (lifecycle_message(sora, dt.date(2026, 9, 1)) or "")
    assert "deprecated since 2026-08-13" in (lifecycle_message(sora, dt.date(2026, 9, 1)) or "")
    assert "was retired on 2026-09-24" in (lifecycle_message(sora, dt.date(2026, 9, 24)) or "")
    azure = spec("azure/sora-2")  # retires 2026-09-15 (Azure's schedule), never marked deprecated
    assert lifecycle_message(azure, dt.date(2026, 6, 1)) is None  # outside the notice window
    assert "retires on 2026-09-15" in (lifecycle_message(azure, dt.date(2026, 9, 1)) or "")
    assert lifecycle_message(spec("local/local-1"), dt.date(2030, 1, 1)) is None


def test_a_retired_model_warns_but_is_still_called() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(404, json={"error": {"message": "The model 'sora-2' does not exist."}})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    today = dt.date.today()
    assert spec("openai/sora-2").lifecycle(today) == "retired", (
        "catalogue dates moved: pick another retired model"
    )
    with (
        Client(api_key="k", http_client=http) as client,
        pytest.warns(LifecycleWarning, match="retired") as caught,
        pytest.raises(Exception, match="does not exist"),
    ):
        client.videos.create("openai/sora-2", "a cat")
    assert len(calls) == 1
    assert caught[0].filename == __file__  # the warning points at the caller's line


def test_an_active_model_does_not_warn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDGATE_LOCAL_DELAY", "0")
    with warnings.catch_warnings():
        warnings.simplefilter("error", LifecycleWarning)
        with Client() as client:
            assert client.videos.create("local/local-1", "a cat", seconds="1", size="320x180").status
