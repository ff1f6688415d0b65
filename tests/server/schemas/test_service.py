"""Every catalogue row's capabilities render through the documented ``Model``: a row whose description
did not fit the schema would be a 500 on ``/v1/models`` instead of a document violation found later."""

from __future__ import annotations

import pytest

from vidgate.catalog.spec import ModelSpec
from vidgate.gateway import capabilities
from vidgate.gateway.routing import Deployment
from vidgate.providers.catalogue import load_catalog
from vidgate.server.schemas.service import Model


@pytest.mark.parametrize("spec", load_catalog(), ids=lambda spec: spec.id)
def test_every_catalogue_row_renders_as_a_documented_model(spec: ModelSpec) -> None:
    provider = spec.id.partition("/")[0]
    dep = Deployment(id="d1", model_name="m", provider=provider, model=spec.id, spec=spec)
    entry = {"id": "m", "object": "model", "created": 1_700_000_000, "owned_by": provider}
    entry.update(capabilities.describe(dep, {"duration": "seconds"}, callbacks=True))
    shown = Model.model_validate(entry).model_dump(mode="json")
    assert shown == entry
