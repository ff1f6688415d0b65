"""Emulator of OpenAI's Videos API (Sora 2): ``/v1/videos`` with ``Authorization: Bearer``.

Point ``openai.OpenAI(base_url=f"{url}/v1")`` at it. Models, sizes and durations come from the
catalogue rows ``openai/*`` (so ``seconds`` allows what the live API allowed after 2026-03: 4-20).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request

from vidgate.catalog import ModelSpec
from vidgate.emulators.common import EmulatorSettings, PackageModels, key_ok
from vidgate.providers._openai_wire.emulator_app import Dialect, videos_app
from vidgate.providers._openai_wire.emulator_wire import WireError, invalid_enum, invalid_type, openai_error

DEFAULT_MODEL = "sora-2"
_KEYS_URL = "https://platform.openai.com/account/api-keys"

MODELS = PackageModels("vidgate.providers.openai")


def redact(key: str) -> str:
    """How OpenAI echoes a wrong key: the first and last characters around asterisks."""
    if len(key) <= 8:
        return "*" * len(key)
    return f"{key[:3]}{'*' * (len(key) - 7)}{key[-4:]}"


class OpenAIDialect(Dialect):
    prefix = "/v1"
    poll_after_header = True

    def authenticate(self, request: Request, settings: EmulatorSettings) -> WireError | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return openai_error(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization "
                "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field "
                "(with blank username) if you're accessing the API from your browser and are prompted for a "
                "username. "
                f"You can obtain an API key from {_KEYS_URL}.",
            )
        if not key_ok(settings, token):
            return openai_error(
                401,
                f"Incorrect API key provided: {redact(token)}. You can find your API key at {_KEYS_URL}.",
                code="invalid_api_key",
            )
        return None

    def resolve_model(self, model: object) -> tuple[str, ModelSpec]:
        name = DEFAULT_MODEL if model is None or model == "" else model
        if not isinstance(name, str):
            raise invalid_type("model", "a string", name)
        spec = MODELS.find(f"openai/{name}")
        if spec is None or spec.provider != "openai":
            raise invalid_enum("model", name, model_names())
        return name, spec


def model_names() -> list[str]:
    """Every model id and snapshot alias the catalogue lists for openai, without the prefix."""
    names: list[str] = []
    for spec in MODELS.rows():
        for full in (spec.id, *spec.aliases):
            names.append(full.partition("/")[2])
    return names


def create_app(settings: EmulatorSettings | None = None) -> Starlette:
    return videos_app(settings or EmulatorSettings(), OpenAIDialect())
