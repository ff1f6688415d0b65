"""Fault injection shared by every emulator.

A fault is asked for in the prompt with a token ``[fault:NAME]`` or ``[fault:NAMExN]`` (fire N times,
default 1), or for every job through ``EmulatorSettings.faults``. Transient faults fire on the first N
requests of their kind for that job (or prompt, for create) and then stop, so a client that retries
succeeds. Names:

- ``429``, ``500``, ``503``: on create (Retry-After: 1 on 429/503)
- ``poll-429``, ``poll-500``, ``poll-503``: on status polls
- ``download-503``: on content download
- ``slow``: every response for the job is delayed ``slow_seconds``
- ``drop``: the status poll's connection is cut mid-body (the first N times)
- ``fail``: the job ends failed; ``filtered``: the job ends safety-filtered (no output)
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field

_TOKEN = re.compile(r"\[fault:([a-z0-9-]+?)(?:x(\d+))?\]")
TRANSIENT = {"429", "500", "503", "poll-429", "poll-500", "poll-503", "download-503", "drop"}
OUTCOMES = {"fail", "filtered"}
NAMES = frozenset(TRANSIENT | OUTCOMES | {"slow"})  # every fault an emulator offers


def parse_faults(prompt: str | None) -> dict[str, int]:
    """``"a cat [fault:429x2] [fault:fail]"`` -> ``{"429": 2, "fail": 1}``."""
    found: dict[str, int] = {}
    for name, times in _TOKEN.findall(prompt or ""):
        found[name] = int(times) if times else 1
    return found


@dataclass
class FaultBook:
    """Counts how often each transient fault has fired per subject (job id or prompt)."""

    defaults: dict[str, int] = field(default_factory=dict)
    _fired: Counter[tuple[str, str]] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def plan(self, prompt: str | None) -> dict[str, int]:
        merged = dict(self.defaults)
        merged.update(parse_faults(prompt))
        return merged

    def fire(self, subject: str, name: str, plan: dict[str, int]) -> bool:
        """True if transient fault ``name`` should fire now for ``subject`` (and records that it did)."""
        times = plan.get(name, 0)
        if times <= 0:
            return False
        with self._lock:
            key = (subject, name)
            if self._fired[key] >= times:
                return False
            self._fired[key] += 1
            return True

    @staticmethod
    def outcome(plan: dict[str, int]) -> str:
        """``filtered`` beats ``fail`` beats ``ok``; a count of 0 (``[fault:failx0]``) turns a default off."""
        if plan.get("filtered", 0) > 0:
            return "filtered"
        if plan.get("fail", 0) > 0:
            return "fail"
        return "ok"
