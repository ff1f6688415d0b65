"""Emulator basics: the job clock (explicit ``now``), keys, ids, the fault book, and the connection drop."""

from __future__ import annotations

from typing import Any

import pytest

from vidgate.emulators.common import (
    DropResponse,
    EmuJob,
    EmulatorSettings,
    drop_connection,
    faults_book,
    key_ok,
    new_id,
)


def job(processing_seconds: float = 10.0, created_at: float = 1000.0, outcome: str = "ok") -> EmuJob:
    return EmuJob(
        id="job-1",
        prompt="a cat",
        model="sora-2",
        seconds=4,
        width=1280,
        height=720,
        processing_seconds=processing_seconds,
        outcome=outcome,
        created_at=created_at,
    )


@pytest.mark.parametrize(
    ("elapsed", "state"),
    [
        (-5.0, ("queued", 0)),
        (0.0, ("queued", 0)),
        (0.99, ("queued", 0)),
        (1.0, ("in_progress", 10)),
        (2.5, ("in_progress", 25)),
        (5.0, ("in_progress", 50)),
        (9.99, ("in_progress", 99)),
        (10.0, ("completed", 100)),
        (1e6, ("completed", 100)),
    ],
)
def test_state_timeline(elapsed: float, state: tuple[str, int]) -> None:
    assert job().state(now=1000.0 + elapsed) == state


@pytest.mark.parametrize("outcome", ["fail", "filtered"])
def test_failed_outcomes_end_failed(outcome: str) -> None:
    failing = job(outcome=outcome)
    assert failing.state(now=1005.0) == ("in_progress", 50)
    assert failing.state(now=1010.0) == ("failed", 100)


def test_now_zero_is_a_real_time() -> None:
    """``now=0.0`` is an instant, not "unset": a job created at 0 is queued at 0."""
    assert job(created_at=0.0).state(now=0.0) == ("queued", 0)
    assert job(created_at=0.0).state(now=5.0) == ("in_progress", 50)


def test_zero_processing_time_completes_at_once() -> None:
    assert job(processing_seconds=0.0).state(now=1000.0) == ("completed", 100)


def test_size_and_finished_at() -> None:
    emu = job(processing_seconds=2.6, created_at=1000.2)
    assert emu.size == "1280x720"
    assert emu.finished_at == 1002


def test_settings_do_not_share_their_fault_tables() -> None:
    """A fault set on one emulator must not leak into another started in the same process."""
    first, second = EmulatorSettings(), EmulatorSettings()
    first.faults["429"] = 2
    assert second.faults == {}


def test_key_ok() -> None:
    open_door = EmulatorSettings()
    assert key_ok(open_door, "anything")
    assert not key_ok(open_door, "")
    assert not key_ok(open_door, None)
    locked = EmulatorSettings(api_key="sk-right")
    assert key_ok(locked, "sk-right")
    assert not key_ok(locked, "sk-wrong")
    assert not key_ok(locked, "sk-right ")
    assert not key_ok(locked, None)


def test_key_ok_with_non_ascii_keys_answers_instead_of_crashing() -> None:
    assert not key_ok(EmulatorSettings(api_key="sk-right"), "sk-ríght")
    assert key_ok(EmulatorSettings(api_key="clé"), "clé")


def test_new_id() -> None:
    first, second = new_id("video_"), new_id("video_")
    assert first.startswith("video_")
    assert len(first) == len("video_") + 32
    assert first != second
    assert len(new_id(nbytes=4)) == 8


def test_faults_book_uses_the_settings_defaults() -> None:
    settings = EmulatorSettings(faults={"poll-503": 2})
    book = faults_book(settings)
    assert book.plan("[fault:429]") == {"poll-503": 2, "429": 1}
    book.defaults["extra"] = 1
    assert settings.faults == {"poll-503": 2}  # the book has its own copy


async def test_drop_connection_sends_part_of_the_body_then_fails() -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    with pytest.raises(ConnectionAbortedError):
        await drop_connection(send, declared_length=4096)
    start, body = sent
    assert start["type"] == "http.response.start"
    assert start["status"] == 200
    assert (b"content-length", b"4096") in start["headers"]
    assert body["type"] == "http.response.body"
    assert body["more_body"] is True
    assert len(body["body"]) < 4096


async def test_drop_response_is_an_asgi_app_that_cuts_the_connection() -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    with pytest.raises(ConnectionAbortedError):
        await DropResponse()({"type": "http"}, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
