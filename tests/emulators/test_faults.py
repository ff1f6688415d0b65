"""Fault tokens, per-subject counting (exactly N times, thread-safe), defaults, and outcome precedence."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from vidgate.emulators.faults import NAMES, FaultBook, parse_faults


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("a cat", {}),
        (None, {}),
        ("", {}),
        ("a cat [fault:429]", {"429": 1}),
        ("[fault:503x2] a cat", {"503": 2}),
        ("a cat [fault:429x2] [fault:fail]", {"429": 2, "fail": 1}),
        ("[fault:poll-503x3]", {"poll-503": 3}),
        ("[fault:poll-429][fault:poll-500x2]", {"poll-429": 1, "poll-500": 2}),
        ("[fault:download-503x10]", {"download-503": 10}),
        ("[fault:slow] [fault:drop] [fault:filtered]", {"slow": 1, "drop": 1, "filtered": 1}),
        ("[fault:500x0]", {"500": 0}),
        ("[fault:429] then [fault:429x4]", {"429": 4}),  # the last token wins
    ],
)
def test_parse_faults(prompt: str | None, expected: dict[str, int]) -> None:
    assert parse_faults(prompt) == expected


@pytest.mark.parametrize(
    "prompt", ["[fault:]", "[FAULT:429]", "[fault 429]", "fault:429", "[fault:4_29]", "[fault:429"]
)
def test_malformed_tokens_are_plain_text(prompt: str) -> None:
    assert parse_faults(prompt) == {}


def test_every_documented_name_parses() -> None:
    for name in sorted(NAMES):
        assert parse_faults(f"x [fault:{name}] y") == {name: 1}
        assert parse_faults(f"[fault:{name}x3]") == {name: 3}


def test_fires_exactly_n_times_per_subject() -> None:
    book = FaultBook()
    plan = book.plan("[fault:503x2] [fault:poll-503]")
    assert [book.fire("job-1", "503", plan) for _ in range(4)] == [True, True, False, False]
    assert [book.fire("job-2", "503", plan) for _ in range(3)] == [True, True, False]
    assert [book.fire("job-1", "poll-503", plan) for _ in range(2)] == [True, False]
    assert not book.fire("job-1", "429", plan)  # not planned


def test_zero_times_never_fires() -> None:
    book = FaultBook()
    assert not book.fire("job", "500", {"500": 0})
    assert not book.fire("job", "500", {})


def test_fire_is_thread_safe() -> None:
    book = FaultBook()
    plan = {"429": 50}
    start = threading.Barrier(8)

    def hammer(_: int) -> int:
        start.wait()
        return sum(book.fire("same-prompt", "429", plan) for _ in range(100))

    with ThreadPoolExecutor(max_workers=8) as pool:
        fired = sum(pool.map(hammer, range(8)))
    assert fired == 50


def test_defaults_merge_with_the_prompt_which_wins() -> None:
    book = FaultBook(defaults={"poll-503": 1, "429": 2})
    assert book.plan(None) == {"poll-503": 1, "429": 2}
    assert book.plan("[fault:429x5] [fault:fail]") == {"poll-503": 1, "429": 5, "fail": 1}
    assert book.plan("[fault:poll-503x0]") == {"poll-503": 0, "429": 2}
    assert book.defaults == {"poll-503": 1, "429": 2}  # plans never change the defaults


@pytest.mark.parametrize(
    ("plan", "result"),
    [
        ({}, "ok"),
        ({"429": 2, "slow": 1}, "ok"),
        ({"fail": 1}, "fail"),
        ({"filtered": 1}, "filtered"),
        ({"fail": 1, "filtered": 1}, "filtered"),
        ({"fail": 0}, "ok"),
        ({"filtered": 0, "fail": 1}, "fail"),
    ],
)
def test_outcome_precedence(plan: dict[str, int], result: str) -> None:
    assert FaultBook.outcome(plan) == result


def test_a_prompt_can_turn_a_default_outcome_off() -> None:
    book = FaultBook(defaults={"fail": 1})
    assert book.outcome(book.plan("a cat")) == "fail"
    assert book.outcome(book.plan("a cat [fault:failx0]")) == "ok"
