"""Any server of the OpenAI ``/v1/videos`` shape (vLLM-Omni, SGLang diffusion, NVIDIA Dynamo, another
gateway): the OpenAI flows with this family's differences.

- ``api_base`` is required (the ``/v1`` root); auth is a Bearer key only when one is configured.
- Create may answer a minimal ``{id, status}`` (or ``{id, status, created_at}``): the rest is filled
  from the request until the first poll answers with the full object.
- Status words beyond OpenAI's four (``pending``, ``running``, ``cancelled``, ...) are mapped.
- Delete may answer 204 with no body.
- ``/content`` variants beyond the video only where the deployment lists them (``content_variants``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from vidgate.errors import (
    APIError,
    BadRequestError,
    InternalServerError,
    UnsupportedOperationError,
    invalid_value,
)
from vidgate.providers._openai_wire import flows as wire
from vidgate.providers.base import Credentials, Download, Flow, HttpReply, ProviderJob, ProviderPage
from vidgate.providers.openai.adapter import MAX_LIST_LIMIT, OpenAIProvider
from vidgate.providers.openai_compatible.body import RESERVED, create_body
from vidgate.types import VideoRequest

# What a model of this provider accepts when its deployment names it (an open namespace).
OPEN_FEATURES = frozenset({"image_input", "seed", "negative_prompt", "edit", "extend", "list", "delete"})
STATUS_SYNONYMS: Mapping[str, str] = {
    "pending": "queued",
    "submitted": "queued",
    "running": "in_progress",
    "processing": "in_progress",
    "succeeded": "completed",
    "success": "completed",
    "error": "failed",
    "aborted": "cancelled",
}
CANCELLED = frozenset({"cancelled", "canceled"})


class OpenAICompatibleProvider(OpenAIProvider):
    name: ClassVar[str] = "openai_compatible"
    reserved_params: ClassVar[Mapping[str, str]] = RESERVED
    extra_file_parts: ClassVar[bool] = True  # extra_body file parts go as form file parts

    def root(self, creds: Credentials) -> str:
        base = (creds.api_base or "").strip().rstrip("/")
        if not base:
            raise BadRequestError(
                "The openai_compatible provider needs the server's /v1 root: set api_base "
                "(or OPENAI_COMPATIBLE_API_BASE), e.g. http://gpu-1:8000/v1.",
                param="api_base",
            )
        return base

    def auth_headers(self, creds: Credentials) -> dict[str, str]:
        """A Bearer key when configured; self-hosted servers run without auth unless given ``--api-key``."""
        return {"Authorization": f"Bearer {creds.api_key}"} if creds.api_key else {}

    def _video(self, reply: HttpReply) -> ProviderJob:
        data = wire.json_object(reply, self.name)
        return wire.parse_video(normalized(data), reply.headers)

    def create(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]:
        """``POST /videos``; an edit or extension is forwarded to the upstream's ``/videos/edits`` or
        ``/videos/extensions`` (OpenAI's shape, plus ``model``)."""
        if req.task == "generate":
            body = create_body(req, creds.options)
            reply = yield self._call(
                "POST", "/videos", creds, json=body.json, data=body.data, files=body.files, retry_safe=False
            )
            return backfill(self._video(reply), req)
        path, body = wire.task_body(req, with_model=True)
        try:
            reply = yield self._call(
                "POST", path, creds, json=body.json, data=body.data, files=body.files, retry_safe=False
            )
        except APIError as exc:
            if exc.status_code not in (404, 405):
                raise
            raise UnsupportedOperationError(  # a server without the route: a 400, never charged
                req.task,
                self.name,
                message=f"This {self.name} server has no {path} (HTTP {exc.status_code}): it does not "
                f"support video {'edits' if req.task == 'edit' else 'extensions'}.",
                answered=True,
            ) from exc
        return backfill(self._video(reply), req)

    def list(self, creds: Credentials, *, after: str | None, limit: int, order: str) -> Flow[ProviderPage]:
        """``GET /videos`` (vLLM-Omni has it; a server without it answers 404/405, mapped as such),
        each item read with this family's status words."""
        check_page(limit, order)
        params = {"limit": str(limit), "order": order, **({"after": after} if after else {})}
        reply = yield self._call("GET", "/videos", creds, params=params)
        data = wire.json_object(reply, self.name)
        items = data.get("data")
        if not isinstance(items, list):
            raise InternalServerError(f"{self.name}: the list reply has no 'data' array.", provider=self.name)
        jobs = tuple(wire.parse_video(normalized(item)) for item in items if isinstance(item, Mapping))
        return ProviderPage(jobs=jobs, has_more=data.get("has_more") is True)

    def download(self, native_id: str, variant: str, creds: Credentials) -> Flow[Download]:
        """The streamed ``/content``; a variant the deployment does not list (``content_variants``) is a
        400 before any call (engines serve the video only, and may ignore ``variant``)."""
        wire.check_variant(variant)
        offered = creds.options.get("content_variants", "video").split(",")
        if variant not in offered:
            raise BadRequestError(
                f"This {self.name} server has no '{variant}' content; it serves: {', '.join(offered)}.",
                param="variant",
                code="variant_unavailable",
            )
        return (yield from super().download(native_id, variant, creds))

    def delete(self, native_id: str, creds: Credentials) -> Flow[bool]:
        reply = yield self._call("DELETE", f"/videos/{self._id(native_id)}", creds)
        if not reply.content.strip():
            return True
        return bool(wire.json_object(reply, self.name).get("deleted", True))


def check_page(limit: int, order: str) -> None:
    if order not in ("asc", "desc"):
        raise invalid_value("order", order, ["asc", "desc"])
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST_LIMIT:
        raise BadRequestError(
            f"Invalid 'limit': expected an integer from 1 to {MAX_LIST_LIMIT}.", param="limit"
        )


def normalized(data: Mapping[str, Any]) -> dict[str, Any]:
    """The Video object with this family's status words read as OpenAI's (a cancelled job is failed,
    with code ``cancelled`` when the server gave no error)."""
    out = dict(data)
    status = out.get("status")
    if isinstance(status, str):
        status = STATUS_SYNONYMS.get(status.lower(), status.lower())
        if status in CANCELLED:
            status = "failed"
            if not isinstance(out.get("error"), Mapping):
                out["error"] = {"code": "cancelled", "message": "The job was cancelled on the server."}
        out["status"] = status
    return out


def backfill(job: ProviderJob, req: VideoRequest) -> ProviderJob:
    """A minimal create reply completed from the request (the first poll brings the server's values)."""
    return dataclasses.replace(
        job,
        model=job.model or req.model,
        prompt=job.prompt if job.prompt is not None else req.prompt,
        size=job.size or req.size,
        seconds=job.seconds or str(req.seconds),
    )
