"""OpenAI's Videos API (Sora 2): ``/v1/videos`` create, retrieve, content, remix, list, delete.

``api_base`` means what ``openai.OpenAI(base_url=...)`` means: the ``.../v1`` root. Subclasses for
other hosts of the same wire format (Azure's v1 surface) override only the URL, auth and query hooks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from vidgate.errors import APIError, AuthenticationError, BadRequestError
from vidgate.providers._openai_wire import flows as wire
from vidgate.providers.base import (
    BaseProvider,
    Credentials,
    Download,
    FileTuple,
    Flow,
    HttpCall,
    HttpReply,
    ProviderJob,
    ProviderPage,
)
from vidgate.types import VideoRequest

MAX_LIST_LIMIT = 100
_ID = re.compile(r"[A-Za-z0-9_.:~-]{1,256}")  # ids go into URL paths: nothing that changes the path


class OpenAIProvider(BaseProvider):
    name: ClassVar[str] = "openai"
    reserved_params: ClassVar[Mapping[str, str]] = wire.RESERVED
    default_api_base: ClassVar[str] = "https://api.openai.com/v1"

    # ---- hooks (overridden by hosts of the same wire format) -----------------------------------

    def root(self, creds: Credentials) -> str:
        """The URL that ``/videos`` is appended to."""
        return (creds.api_base or self.default_api_base).rstrip("/")

    def auth_headers(self, creds: Credentials) -> dict[str, str]:
        if not creds.api_key:
            raise AuthenticationError(
                "The openai provider needs an API key: pass api_key or set OPENAI_API_KEY.",
                provider=self.name,
                code="missing_api_key",
            )
        headers = {"Authorization": f"Bearer {creds.api_key}"}
        if creds.organization:
            headers["OpenAI-Organization"] = creds.organization
        if creds.project:
            headers["OpenAI-Project"] = creds.project
        return headers

    def query(self, creds: Credentials) -> dict[str, str]:
        """Query parameters every call carries (none for OpenAI; ``api-version`` for Azure)."""
        return {}

    # ---- plumbing ------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        creds: Credentials,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        files: list[tuple[str, FileTuple]] | None = None,
        headers: Mapping[str, str] | None = None,
        retry_safe: bool = True,
    ) -> HttpCall:
        all_headers = {**self.auth_headers(creds), **dict(headers or {}), **dict(creds.extra_headers)}
        return HttpCall(
            method=method,
            url=f"{self.root(creds)}{path}",
            headers=all_headers,
            params={**self.query(creds), **dict(params or {})},
            json=json,
            data=data,
            files=files,
            retry_safe=retry_safe,
        )

    def _video(self, reply: HttpReply) -> ProviderJob:
        return wire.parse_video(wire.json_object(reply, self.name), reply.headers)

    @staticmethod
    def _id(native_id: str) -> str:
        if not isinstance(native_id, str) or not _ID.fullmatch(native_id) or native_id in (".", ".."):
            raise BadRequestError(f"Invalid video id '{native_id}'.", param="video_id")
        return native_id

    # ---- operations ----------------------------------------------------------------------------

    def create(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]:
        """``POST /videos``; an edit or extension (``req.task``) goes to ``/videos/edits|extensions``."""
        if req.task != "generate":
            path, body = wire.task_body(req)
        else:
            path, body = "/videos", wire.create_body(req)
        reply = yield self._call(
            "POST", path, creds, json=body.json, data=body.data, files=body.files, retry_safe=False
        )
        return self._video(reply)

    def retrieve(self, native_id: str, creds: Credentials) -> Flow[ProviderJob]:
        reply = yield self._call("GET", f"/videos/{self._id(native_id)}", creds)
        return self._video(reply)

    def download(self, native_id: str, variant: str, creds: Credentials) -> Flow[Download]:
        """Where the bytes are: one streamed GET (a job not yet completed answers 404 upstream)."""
        wire.check_variant(variant)
        call = self._call(
            "GET",
            f"/videos/{self._id(native_id)}/content",
            creds,
            params={"variant": variant},
            headers={"Accept": "application/binary"},
        )
        return Download(media_type=wire.VARIANT_MEDIA_TYPES[variant], call=call)
        yield  # pragma: no cover - a flow with no round trip

    def remix(self, native_id: str, prompt: str, creds: Credentials) -> Flow[ProviderJob]:
        if not isinstance(prompt, str) or not prompt.strip():
            raise BadRequestError(
                "Missing required parameter: 'prompt'.", param="prompt", code="missing_required_parameter"
            )
        reply = yield self._call(
            "POST", f"/videos/{self._id(native_id)}/remix", creds, json={"prompt": prompt}, retry_safe=False
        )
        return self._video(reply)

    def list(self, creds: Credentials, *, after: str | None, limit: int, order: str) -> Flow[ProviderPage]:
        if order not in ("asc", "desc"):
            raise BadRequestError(
                f"Invalid value: '{order}'. Supported values are: 'asc' and 'desc'.", param="order"
            )
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST_LIMIT:
            raise BadRequestError(
                f"Invalid 'limit': expected an integer from 1 to {MAX_LIST_LIMIT}.", param="limit"
            )
        params = {"limit": str(limit), "order": order}
        if after:
            params["after"] = after
        reply = yield self._call("GET", "/videos", creds, params=params)
        return wire.parse_page(wire.json_object(reply, self.name))

    def delete(self, native_id: str, creds: Credentials) -> Flow[bool]:
        reply = yield self._call("DELETE", f"/videos/{self._id(native_id)}", creds)
        data = wire.json_object(reply, self.name)
        return bool(data.get("deleted", True))

    def error_for(self, reply: HttpReply) -> APIError:
        return wire.error_from_reply(reply, self.name)
