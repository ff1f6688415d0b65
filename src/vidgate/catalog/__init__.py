"""Catalogue rows as data: parsing a provider's ``models.yaml``, validation and pricing built on them.

The index over every installed provider is ``vidgate.providers.catalogue``."""

from vidgate.catalog.loader import parse_catalogue, parse_row
from vidgate.catalog.open import open_model
from vidgate.catalog.pricing import Usage, actual_cost, estimate_cost, from_micros, to_micros
from vidgate.catalog.spec import ModelSpec
from vidgate.catalog.validate import aspect_ratio, parse_size, validate

__all__ = [
    "ModelSpec",
    "Usage",
    "actual_cost",
    "aspect_ratio",
    "estimate_cost",
    "from_micros",
    "open_model",
    "parse_catalogue",
    "parse_row",
    "parse_size",
    "to_micros",
    "validate",
]
