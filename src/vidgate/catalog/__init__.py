"""The model catalogue: data (``models.yaml``) plus validation, pricing and lifecycle built on it."""

from vidgate.catalog.loader import find_model, load_catalog, models_for_provider
from vidgate.catalog.pricing import estimate_cost, from_micros, to_micros
from vidgate.catalog.spec import ModelSpec
from vidgate.catalog.validate import aspect_ratio, parse_size, validate

__all__ = [
    "ModelSpec",
    "aspect_ratio",
    "estimate_cost",
    "find_model",
    "from_micros",
    "load_catalog",
    "models_for_provider",
    "parse_size",
    "to_micros",
    "validate",
]
