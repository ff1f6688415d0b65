"""A model past its catalogue retirement date is refused before any provider call (400
``model_retired`` naming its successor), unless the operator keeps it (``allow_retired: true`` on the
deployment). Routing a retired public name elsewhere is a config matter: point the ``model_name`` at a
deployment of the successor, or list the successor's name under ``router_settings.fallbacks``."""

from __future__ import annotations

import datetime as dt

from vidgate.catalog.spec import current_date
from vidgate.errors import BadRequestError
from vidgate.gateway.routing import Deployment

MODEL_RETIRED = "model_retired"


def check_active(dep: Deployment, today: dt.date | None = None) -> None:
    """Raise BadRequestError(code=model_retired) when ``dep``'s row is retired and not kept."""
    spec = dep.spec
    if dep.allow_retired or spec.lifecycle(today or current_date()) != "retired":
        return
    instead = f" Use '{spec.successor}' instead." if spec.successor else " It has no successor."
    raise BadRequestError(
        f"Model '{dep.model_name}' ({spec.id}) was retired on {spec.retires_on}.{instead}",
        param="model",
        code=MODEL_RETIRED,
    )
