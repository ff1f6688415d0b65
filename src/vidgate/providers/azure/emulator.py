"""Emulator of Azure OpenAI's Sora 2 surface: ``{endpoint}/openai/v1/videos`` (the OpenAI Videos shape).

Differences from OpenAI, per the reference: ``api-key`` header or ``Authorization: Bearer``, Azure's
own 401 body; ``api-version`` optional, but only ``preview`` and ``v1`` accepted (anything else: 400
``API version not supported``); ``model`` is a deployment name (unknown: 404
``video_generation_user_error``); unknown routes answer Azure's ``Resource not found``. Azure is not
known to send ``openai-poll-after-ms``, so this emulator does not either.

Point ``openai.OpenAI(base_url=f"{url}/openai/v1")`` or ``openai.AzureOpenAI(base_url=f"{url}/openai/v1",
api_version="preview")`` at it.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.applications import Starlette
from starlette.requests import Request

from vidgate.catalog import ModelSpec
from vidgate.emulators.common import EmulatorSettings, PackageModels, key_ok
from vidgate.providers._openai_wire.emulator_app import RETRY_AFTER_SECONDS, Dialect, videos_app
from vidgate.providers._openai_wire.emulator_wire import WireError, invalid_type, missing, openai_error

ACCEPTED_API_VERSIONS = ("preview", "v1")
_INVALID_KEY = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key "
    "for an active subscription and use a correct regional API endpoint for your resource."
)
_MISSING_KEY = (
    "Access denied due to missing subscription key. Make sure to include subscription key when making "
    "requests to an API."
)

MODELS = PackageModels("vidgate.providers.azure")


def azure_error(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> WireError:
    """Azure's gateway-level envelope: ``{"error": {"code": "401", "message": ...}}``."""
    return WireError(status, {"error": {"code": code, "message": message}}, headers)


def default_deployments() -> dict[str, str]:
    """One deployment per catalogue ``azure/*`` model, named like the model (``sora-2``)."""
    return {spec.model: spec.id for spec in MODELS.rows()}


class AzureDialect(Dialect):
    prefix = "/openai/v1"
    poll_after_header = False
    serves_edits = False  # Azure's video surface documents create, retrieve, list, content, delete

    def __init__(self, deployments: Mapping[str, str]) -> None:
        self.deployments = dict(deployments)

    def authenticate(self, request: Request, settings: EmulatorSettings) -> WireError | None:
        presented = request.headers.get("api-key")
        if presented is None:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            presented = token.strip() if scheme.lower() == "bearer" else None
        if not presented:
            return azure_error(401, "401", _MISSING_KEY)
        if not key_ok(settings, presented):
            return azure_error(401, "401", _INVALID_KEY)
        return None

    def check_query(self, request: Request) -> WireError | None:
        version = request.query_params.get("api-version")
        if version is None or version in ACCEPTED_API_VERSIONS:
            return None
        return azure_error(400, "BadRequest", "API version not supported")

    def resolve_model(self, model: object) -> tuple[str, ModelSpec]:
        if model is None or model == "":
            raise missing("model")
        if not isinstance(model, str):
            raise invalid_type("model", "a string", model)
        target = self.deployments.get(model)
        spec = MODELS.find(target) if target else None
        if spec is None:
            raise openai_error(
                404,
                f"The API deployment '{model}' for this resource does not exist. If you created the "
                "deployment within the last 5 minutes, please wait a moment and try again.",
                type="video_generation_user_error",
            )
        return model, spec

    def rate_limited(self, model: str) -> WireError:
        return azure_error(
            429,
            "429",
            f"Requests to the Videos Operation under Azure OpenAI API have exceeded the rate limit of your "
            f"current pricing tier. Please retry after {RETRY_AFTER_SECONDS} second.",
            headers={"retry-after": RETRY_AFTER_SECONDS},
        )

    def route_not_found(self, request: Request, status: int) -> WireError:
        return azure_error(404, "404", "Resource not found")


def create_app(
    settings: EmulatorSettings | None = None, deployments: Mapping[str, str] | None = None
) -> Starlette:
    """``deployments`` maps deployment name -> catalogue id (default: ``sora-2``, ``sora-2-pro``)."""
    return videos_app(settings or EmulatorSettings(), AzureDialect(deployments or default_deployments()))
