"""The ``openai_moderation`` guardrail: asks any OpenAI-compatible ``POST {api_base}/moderations``
endpoint (OpenAI's, or a self-hosted moderation model behind the same API) about the text and the
images of a request, and refuses what it flags.

Config (``litellm_params``)::

    guardrail: openai_moderation
    api_base: http://moderation.internal/v1     # the /v1 root, like OpenAI's base_url (default OpenAI)
    api_key: os.environ/MODERATION_API_KEY      # sent as a Bearer token (optional for a local server)
    model: omni-moderation-latest               # default
    categories: [sexual/minors, violence/graphic]   # optional: refuse only on these (default: flagged)

One request carries every text and the first image (``input`` as OpenAI's multi-modal list:
``{"type": "text"}`` / ``{"type": "image_url"}``); each further image goes in a request of its own
(omni-moderation takes one image per request). Image bytes are sent as data URLs, image URLs as they
are. Not checked: images given as a provider file id and input videos (the endpoint takes neither);
a plugin guardrail can check those. Any non-200 answer or unreadable body is an error, handled by the
guardrail's failure mode (closed by default).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import httpx

from vidgate.gateway.guardrails.base import GuardInput, Verdict
from vidgate.types import ImageInput

__all__ = ["ModerationError", "OpenAIModeration", "build"]

DEFAULT_API_BASE = "https://api.openai.com/v1"
DEFAULT_MODEL = "omni-moderation-latest"
_KNOWN = frozenset({"api_base", "api_key", "model", "categories"})


class ModerationError(Exception):
    """The moderation endpoint did not give a usable answer."""


def _image_part(image: ImageInput) -> dict[str, Any] | None:
    if image.data is not None:
        encoded = base64.b64encode(image.data).decode("ascii")
        return {
            "type": "image_url",
            "image_url": {"url": f"data:{image.mime_type or 'image/png'};base64,{encoded}"},
        }
    if image.url is not None:
        return {"type": "image_url", "image_url": {"url": image.url}}
    return None  # a provider file id: nothing the endpoint can fetch


class OpenAIModeration:
    def __init__(
        self,
        *,
        api_base: str = DEFAULT_API_BASE,
        api_key: str | None = None,
        model: str = DEFAULT_MODEL,
        categories: frozenset[str] = frozenset(),
    ) -> None:
        self.url = api_base.rstrip("/") + "/moderations"
        self.api_key = api_key
        self.model = model
        self.categories = categories
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            self._client = httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(30.0))
        return self._client

    async def check(self, subject: GuardInput) -> Verdict:
        texts = [{"type": "text", "text": text} for _, text in subject.texts]
        images = [
            (field, part) for field, image in subject.images if (part := _image_part(image)) is not None
        ]
        batches: list[tuple[str | None, list[dict[str, Any]]]] = []
        first_image = images[0] if images else None
        if texts or first_image is not None:
            field = subject.texts[0][0] if subject.texts else (first_image[0] if first_image else None)
            batches.append((field, texts + ([first_image[1]] if first_image else [])))
        batches += [(field, [part]) for field, part in images[1:]]
        for field, items in batches:
            flagged = await self._flagged(items)
            if flagged:
                return Verdict.refuse(f"flagged by content moderation ({', '.join(flagged)})", field)
        return Verdict.allow()

    async def _flagged(self, items: list[dict[str, Any]]) -> list[str]:
        """The categories the endpoint flagged ``items`` for (only the configured ones, if any)."""
        reply = await self._http().post(self.url, json={"model": self.model, "input": items})
        if reply.status_code != 200:
            raise ModerationError(f"moderation endpoint answered {reply.status_code}: {reply.text[:200]}")
        try:
            results = reply.json()["results"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ModerationError(
                f"moderation endpoint sent an unreadable answer: {reply.text[:200]}"
            ) from exc
        if not isinstance(results, list) or not results:
            raise ModerationError(f"moderation endpoint sent no results: {reply.text[:200]}")
        out: list[str] = []
        for result in results:
            if not isinstance(result, dict):
                raise ModerationError("moderation result is not an object")
            categories = result.get("categories") or {}
            hits = sorted(name for name, on in categories.items() if on is True)
            if self.categories:
                out += [name for name in hits if name in self.categories]
            elif result.get("flagged") is True:
                out += hits or ["flagged"]
        return sorted(set(out))

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()


def build(params: Mapping[str, Any]) -> OpenAIModeration:
    unknown = sorted(set(params) - _KNOWN)
    if unknown:
        known = ", ".join(sorted(_KNOWN))
        raise ValueError(f"{unknown[0]}: unknown setting of the openai_moderation guardrail (known: {known})")
    api_base = params.get("api_base", DEFAULT_API_BASE)
    if not isinstance(api_base, str) or not api_base.startswith(("http://", "https://")):
        raise ValueError(f"api_base: expected an http(s) URL, got {api_base!r}")
    api_key = params.get("api_key")
    if api_key is not None and not isinstance(api_key, str):
        raise ValueError("api_key: expected a string")
    model = params.get("model", DEFAULT_MODEL)
    if not isinstance(model, str) or not model:
        raise ValueError("model: expected a moderation model name")
    categories = params.get("categories") or []
    if not isinstance(categories, list) or not all(isinstance(c, str) and c for c in categories):
        raise ValueError("categories: expected a list of moderation category names")
    return OpenAIModeration(api_base=api_base, api_key=api_key, model=model, categories=frozenset(categories))
