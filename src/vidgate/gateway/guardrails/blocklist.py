"""The ``blocklist`` guardrail: refuses a prompt containing a blocked word or matching a blocked
regular expression, compared after Unicode folding (``normalize``) so that other forms of the same
word (full-width letters, Cyrillic look-alikes, zero-width characters, accents, ``a.c.m.e``, ``4cm3``)
are refused too.

Config (``litellm_params``)::

    guardrail: blocklist
    blocked_words: [acme, "globex corp", {keyword: initech}]   # whole words, any case or form
    blocked_regex: ["\\\\bproject\\\\s*x\\\\b"]                      # Python regexes, case-insensitive

A word matches on word boundaries (``acme`` refuses "ACME rocket", not "acmeist"); the words of a
phrase may be separated by any punctuation or spaces. A regex is searched in the text as sent and in
each folded form. The refusal does not repeat the word (the list is the operator's).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from vidgate.gateway.guardrails.base import GuardInput, Verdict
from vidgate.gateway.guardrails.normalize import fold, variants

__all__ = ["Blocklist", "build"]

_KNOWN = frozenset({"blocked_words", "blocked_regex"})


def _word_pattern(word: str) -> re.Pattern[str]:
    parts = [re.escape(part) for part in re.split(r"[\W_]+", fold(word)) if part]
    if not parts:
        raise ValueError(f"blocked_words: '{word}' has no letters or digits")
    return re.compile(r"(?<![^\W_])" + r"[\W_]*".join(parts) + r"(?![^\W_])")


class Blocklist:
    def __init__(self, words: list[str], regexes: list[str]) -> None:
        if not words and not regexes:
            raise ValueError("blocked_words or blocked_regex: give at least one word or pattern")
        self.words = [_word_pattern(word) for word in words]
        self.regexes: list[re.Pattern[str]] = []
        for index, pattern in enumerate(regexes):
            try:
                self.regexes.append(re.compile(pattern, re.IGNORECASE))
            except re.error as exc:
                raise ValueError(f"blocked_regex[{index}]: invalid regular expression: {exc}") from exc

    def matches(self, text: str) -> bool:
        forms = variants(text)
        if any(word.search(form) for word in self.words for form in forms):
            return True
        return any(regex.search(form) for regex in self.regexes for form in (text, *forms))

    async def check(self, subject: GuardInput) -> Verdict:
        for field, text in subject.texts:
            if self.matches(text):
                return Verdict.refuse(f"the {field.replace('_', ' ')} contains a blocked term", field)
        return Verdict.allow()

    async def aclose(self) -> None:
        return None


def _words(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("blocked_words: expected a list of words")
    out: list[str] = []
    for index, item in enumerate(value):
        word = item.get("keyword") if isinstance(item, Mapping) else item
        if not isinstance(word, str) or not word.strip():
            raise ValueError(f"blocked_words[{index}]: expected a word or {{keyword: word}}")
        out.append(word)
    return out


def _patterns(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError("blocked_regex: expected a list of regular expressions")
    return list(value)


def build(params: Mapping[str, Any]) -> Blocklist:
    unknown = sorted(set(params) - _KNOWN)
    if unknown:
        raise ValueError(
            f"{unknown[0]}: unknown setting of the blocklist guardrail (known: {', '.join(sorted(_KNOWN))})"
        )
    return Blocklist(_words(params.get("blocked_words")), _patterns(params.get("blocked_regex")))
