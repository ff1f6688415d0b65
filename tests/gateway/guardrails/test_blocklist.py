"""The blocklist guardrail: words on word boundaries and regexes, after Unicode folding."""

from __future__ import annotations

import pytest

from vidgate.gateway.guardrails.base import GuardInput
from vidgate.gateway.guardrails.blocklist import build
from vidgate.gateway.guardrails.normalize import fold, variants

BLOCK = build(
    {"blocked_words": ["acme", "globex corp", {"keyword": "Initech"}], "blocked_regex": [r"project\s*x\b"]}
)


@pytest.mark.parametrize(
    "prompt",
    [
        "an acme rocket",
        "an ACME rocket",
        "an Ａｃｍｅ rocket",  # full-width
        "an \U0001d41a\U0001d41c\U0001d426\U0001d41e rocket",  # mathematical bold
        "an аcme rocket",  # Cyrillic а
        "an ac\u200bme rocket",  # zero-width space
        "an a\u00adcme rocket",  # soft hyphen
        "an ácmé rocket",  # accents
        "an a.c.m.e rocket",
        "an a c m e rocket",
        "an 4cm3 rocket",
        "the GLOBEX-corp tower",
        "the globex\u00a0\u00a0corp tower",
        "INITECH offices",
        "codename Project  X launch",
        "codename ｐｒｏｊｅｃｔ x",  # the regex also sees the folded text
    ],
)
def test_blocked_in_any_form(prompt: str) -> None:
    assert BLOCK.matches(prompt), prompt


@pytest.mark.parametrize(
    "prompt",
    ["an acmeist painting", "a cat on a mat", "globex alone", "projects x-ray", "the a c plan"],
)
def test_other_words_pass(prompt: str) -> None:
    assert not BLOCK.matches(prompt), prompt


async def test_check_names_the_refused_field() -> None:
    subject = GuardInput(
        mode="pre_call", model="m", texts=(("prompt", "a cat"), ("negative_prompt", "no ACME"))
    )
    verdict = await BLOCK.check(subject)
    assert (verdict.allowed, verdict.param) == (False, "negative_prompt")
    assert verdict.reason == "the negative prompt contains a blocked term"
    assert "acme" not in verdict.reason.lower()
    assert (await BLOCK.check(GuardInput(mode="pre_call", model="m", texts=(("prompt", "a cat"),)))).allowed


def test_fold_and_variants() -> None:
    assert fold("Ｓtraße") == "strasse"
    assert fold("ｃａｆé\u200d") == "cafe"
    assert variants("a.c.m.e") == ("a.c.m.e", "acme")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "blocked_words or blocked_regex: give at least one"),
        ({"blocked_words": "acme"}, "blocked_words: expected a list"),
        ({"blocked_words": [""]}, "blocked_words[0]: expected a word"),
        ({"blocked_words": ["..."]}, "blocked_words: '...' has no letters or digits"),
        ({"blocked_regex": ["("]}, "blocked_regex[0]: invalid regular expression"),
        ({"blocked_words": ["a"], "words": ["b"]}, "words: unknown setting of the blocklist guardrail"),
    ],
)
def test_bad_settings_name_the_setting(params: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")):
        build(params)
