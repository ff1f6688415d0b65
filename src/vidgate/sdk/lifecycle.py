"""Lifecycle warnings: the catalogue's deprecation and retirement dates, surfaced to the caller.

A warning, never a refusal: the dates are data that may lag the provider (a retirement can slip, a
region can keep a model longer), so the SDK still sends the request and lets the provider answer.
"""

from __future__ import annotations

import datetime as dt
import sys
import warnings

from vidgate.catalog import ModelSpec
from vidgate.catalog.spec import current_date

RETIREMENT_NOTICE_DAYS = 30


class LifecycleWarning(UserWarning):
    """The model is deprecated, retires soon, or is past its retirement date (per the catalogue)."""


def lifecycle_message(spec: ModelSpec, today: dt.date | None = None) -> str | None:
    """The warning text for ``spec`` on ``today``, or None when the model is plainly active."""
    today = today or current_date()
    state = spec.lifecycle(today)
    if state == "retired":
        return (
            f"Model '{spec.id}' was retired on {spec.retires_on}; the provider will probably reject it. "
            "vidgate sends the request anyway (the provider, not the catalogue, has the last word)."
        )
    if state == "deprecated":
        tail = f"; it retires on {spec.retires_on}" if spec.retires_on else ""
        return (
            f"Model '{spec.id}' is deprecated since {spec.deprecated_on}{tail}. Plan a move to a newer model."
        )
    if spec.retires_on is not None and (spec.retires_on - today).days <= RETIREMENT_NOTICE_DAYS:
        return f"Model '{spec.id}' retires on {spec.retires_on}. Plan a move to a newer model."
    return None


def warn_lifecycle(spec: ModelSpec, today: dt.date | None = None) -> None:
    message = lifecycle_message(spec, today)
    if message is not None:
        warnings.warn(message, LifecycleWarning, stacklevel=_caller_level())


def _caller_level() -> int:
    """The ``stacklevel`` of the first frame outside vidgate, so the warning points at user code."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("vidgate"):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level
