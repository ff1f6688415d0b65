"""Budget periods: ``budget_duration`` strings ("30s", "10m", "12h", "30d", "2w", "1mo") and when a
period ends. Used by key admin (validation) and by every ``Ledger`` (the reset), so all stores roll
periods over identically."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from vidgate.errors import BadRequestError

_UNITS: dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PATTERN = re.compile(r"^\s*([0-9]{1,9})\s*(s|m|h|d|w|mo)\s*$")  # ASCII digits only
MAX_PERIOD_SECONDS = 100 * 366 * 86400  # a century: every reset time stays a 64-bit, datetime-safe value
ALLOWED_FORMS = "a positive integer followed by s, m, h, d, w or mo (e.g. '30s', '10m', '12h', '30d', '1mo')"


@dataclass(frozen=True)
class BudgetPeriod:
    """``count`` units; ``unit`` is one of s, m, h, d, w, mo (calendar months)."""

    count: int
    unit: str

    def end(self, start: int) -> int:
        """Unix seconds when a period starting at ``start`` ends (months are calendar months, UTC)."""
        if self.unit != "mo":
            return start + self.count * _UNITS[self.unit]
        begin = dt.datetime.fromtimestamp(start, tz=dt.UTC)
        months = begin.month - 1 + self.count
        year, month = begin.year + months // 12, months % 12 + 1
        day = min(begin.day, calendar.monthrange(year, month)[1])
        return int(begin.replace(year=year, month=month, day=day).timestamp())


def parse_budget_duration(text: str, *, param: str = "budget_duration") -> BudgetPeriod:
    """``"30d"`` -> BudgetPeriod(30, "d"); anything else is a BadRequestError naming ``param``."""
    match = _PATTERN.match(text) if isinstance(text, str) else None
    count = int(match.group(1)) if match is not None else 0
    unit_seconds = _UNITS.get(match.group(2), 31 * 86400) if match is not None else 0
    if match is None or count <= 0 or count * unit_seconds > MAX_PERIOD_SECONDS:
        raise BadRequestError(
            f"Invalid '{param}': '{str(text)[:40]}'. Expected {ALLOWED_FORMS}, at most 100 years.",
            param=param,
        )
    return BudgetPeriod(int(match.group(1)), match.group(2))


def next_reset_at(duration: str | None, now: int) -> int | None:
    """When the budget period that starts ``now`` ends; None when the budget never resets."""
    if duration is None:
        return None
    return parse_budget_duration(duration).end(now)


def roll_period(duration: str | None, reset_at: int | None, now: int) -> tuple[bool, int | None]:
    """Whether the current period has ended at ``now`` (spend resets to 0) and the new ``reset_at``.

    A key with a duration but no ``reset_at`` yet starts its first period ``now`` without a reset.
    """
    if duration is None:
        return False, reset_at
    if reset_at is None:
        return False, next_reset_at(duration, now)
    if now < reset_at:
        return False, reset_at
    return True, next_reset_at(duration, now)
