"""The operator's view of deployments: health in this process and lifecycle warnings by date."""

from __future__ import annotations

import datetime as dt

from vidgate.gateway.config import parse_config
from vidgate.gateway.deployments import deployment_status, lifecycle_warning
from vidgate.gateway.routing import Deployment, Router


def deployment(model: str, **params: object) -> Deployment:
    entry = {"model_name": "m", "litellm_params": {"model": model, **params}}
    return parse_config({"model_list": [entry]}, environ={}).deployments[0]


def test_sora_2_warns_from_deprecation_to_retirement() -> None:
    dep = deployment("openai/sora-2", api_key="k")  # deprecated 2026-08-13, retired 2026-09-24
    assert lifecycle_warning(dep, dt.date(2026, 5, 1)) is None
    assert lifecycle_warning(dep, dt.date(2026, 7, 1)) == "'m' (openai/sora-2) retires on 2026-09-24."
    assert lifecycle_warning(dep, dt.date(2026, 8, 13)) == (
        "'m' (openai/sora-2) is deprecated since 2026-08-13; it retires on 2026-09-24."
    )
    assert lifecycle_warning(dep, dt.date(2026, 12, 6)) == (
        "'m' (openai/sora-2) was retired on 2026-09-24 (refused with model_retired)."
    )
    kept = deployment("openai/sora-2", api_key="k", allow_retired=True)
    assert lifecycle_warning(kept, dt.date(2026, 12, 6)) == (
        "'m' (openai/sora-2) was retired on 2026-09-24 (kept: allow_retired)."
    )


def test_a_retired_row_names_its_successor() -> None:
    dep = deployment("gemini/veo-3.1-generate-preview", api_key="k")
    assert lifecycle_warning(dep, dt.date(2026, 12, 6)) == (
        "'m' (gemini/veo-3.1-generate-preview) was retired on 2026-10-22 (refused with model_retired). "
        "Successor: 'gemini/gemini-omni-1.2-flash'."
    )


def test_status_shows_cooldowns_and_creates_in_flight() -> None:
    now = [1000.0]
    dep = deployment("local/local-1")
    router = Router([dep], cooldown_time=30.0, clock=lambda: now[0])
    [row] = deployment_status(router, dt.date(2026, 12, 6))
    assert (row["healthy"], row["cooldown_seconds"], row["in_flight"], row["warning"]) == (True, 0, 0, None)
    router.report_failure(dep.id)
    now[0] += 12.0
    with router.in_flight(dep.id):
        [row] = deployment_status(router, dt.date(2026, 12, 6))
    assert (row["healthy"], row["cooldown_seconds"], row["in_flight"]) == (False, 18.0, 1)
    assert (row["model_name"], row["provider"], row["model"], row["lifecycle"]) == (
        "m",
        "local",
        "local-1",
        "active",
    )
