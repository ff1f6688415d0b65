"""What the operator sees of the configured deployments (``GET /admin/deployments``): their health in
this process (cooldown left, creates in flight) and the lifecycle of the catalogue row each serves.

A lifecycle warning is raised while the row is deprecated, retired, or has a retirement date within
``WARN_DAYS``: the time an operator needs to move a public model name to the successor.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from vidgate.gateway.routing import Deployment, Router

WARN_DAYS = 90


def lifecycle_warning(dep: Deployment, today: dt.date) -> str | None:
    """One sentence for the operator, or None when the row is active and not retiring soon."""
    spec = dep.spec
    state = spec.lifecycle(today)
    instead = f" Successor: '{spec.successor}'." if spec.successor else ""
    if state == "retired":
        kept = " (kept: allow_retired)" if dep.allow_retired else " (refused with model_retired)"
        return f"'{dep.model_name}' ({spec.id}) was retired on {spec.retires_on}{kept}.{instead}"
    if state == "deprecated":
        until = f"; it retires on {spec.retires_on}" if spec.retires_on else ""
        return f"'{dep.model_name}' ({spec.id}) is deprecated since {spec.deprecated_on}{until}.{instead}"
    if spec.retires_on is not None and (spec.retires_on - today).days <= WARN_DAYS:
        return f"'{dep.model_name}' ({spec.id}) retires on {spec.retires_on}.{instead}"
    return None


def deployment_status(router: Router, today: dt.date) -> list[dict[str, Any]]:
    rows = []
    for dep in router.deployments:
        cooldown, in_flight = router.health(dep.id)
        spec = dep.spec
        rows.append(
            {
                "id": dep.id,
                "model_name": dep.model_name,
                "provider": dep.provider,
                "model": dep.model,
                "healthy": cooldown == 0,
                "cooldown_seconds": round(cooldown, 1),
                "in_flight": in_flight,
                "rpm": dep.rpm,
                "weight": dep.weight,
                "lifecycle": spec.lifecycle(today),
                "deprecated_on": spec.deprecated_on.isoformat() if spec.deprecated_on else None,
                "retires_on": spec.retires_on.isoformat() if spec.retires_on else None,
                "successor": spec.successor,
                "allow_retired": dep.allow_retired,
                "warning": lifecycle_warning(dep, today),
            }
        )
    return rows
