"""Short-lived, owner-scoped links to one video's content, so a ``<video>`` element can seek with HTTP
Range without the key: the browser sends no Authorization header for a media element's requests.

``POST /ui/media`` (authenticated like any API call, body ``{"video_id", "variant"}``) checks that the
caller owns the video and answers ``{"url": "/ui/media?token=<token>", "expires_at"}``. The token is the
video id, variant, owner id and expiry, signed with HMAC-SHA256 under a key derived from the master
key (so every replica accepts the others' links; with no master key, a random key of this process).
It never contains the secret, and it travels as the ``token`` query parameter, which the request log
leaves out and uvicorn's access line redacts (``server/redaction.py``). ``GET /ui/media?token=``
re-checks the signature, the expiry and that
the owning key still exists and is not blocked, then serves the content exactly as
``GET /v1/videos/{id}/content`` does (Range, ETag, owner check).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any, Literal

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from vidgate.errors import BadRequestError, NotFoundError
from vidgate.gateway.auth import MASTER_OWNER, Principal
from vidgate.server import forms
from vidgate.server.content import check_variant, content_response
from vidgate.server.endpoint import JSON, Body, Endpoint, Reply
from vidgate.server.responses import json_response
from vidgate.server.schemas.videos import RangeHeaders
from vidgate.server.state import caller, check_params, request_log, server_state

LINK_SECONDS = 600  # long enough to watch and seek a video; the page mints a new link after that
_PROCESS_KEY = secrets.token_bytes(32)
_LABEL = b"vidgate dashboard media links v1"


def signing_key(master_key: str | None) -> bytes:
    if master_key is None:
        return _PROCESS_KEY
    return hmac.new(master_key.encode(), _LABEL, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint(key: bytes, video_id: str, variant: str, owner: str, expires_at: int) -> str:
    payload = _b64(json.dumps([video_id, variant, owner, expires_at], separators=(",", ":")).encode())
    mac = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def verify(key: bytes, token: str, now: float) -> tuple[str, str, str]:
    """(video id, variant, owner) of a valid, unexpired token; any other token is the same 404."""
    gone = NotFoundError("This media link is invalid or has expired.", param="token", code="link_expired")
    payload, _, mac = token.partition(".")
    try:
        expected = hmac.new(key, payload.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(mac)):
            raise gone
        fields: Any = json.loads(_unb64(payload))
    except (ValueError, UnicodeError) as exc:
        raise gone from exc
    video_id, variant, owner, expires_at = fields
    if expires_at < now:
        raise gone
    return video_id, variant, owner


async def create_link(request: Request) -> Response:
    principal = await caller(request)
    state = server_state(request)
    body = await forms.read_body(request)
    for name in body:
        if name not in ("video_id", "variant"):
            raise BadRequestError(
                f"Unknown parameter: '{name}'. A media link takes 'video_id' and 'variant'.",
                param=name,
                code="unknown_parameter",
            )
    video_id = forms.text(body, "video_id", required=True)
    assert video_id is not None
    variant = check_variant(forms.text(body, "variant"))
    await state.service.get_video(principal, video_id)  # owned (404 otherwise)
    expires_at = int(time.time()) + LINK_SECONDS
    token = mint(signing_key(state.config.master_key), video_id, variant, principal.owner_id, expires_at)
    return json_response({"url": f"/ui/media?token={token}", "expires_at": expires_at})


async def serve_link(request: Request) -> Response:
    check_params(request)
    state = server_state(request)
    token = request.query_params.get("token", "")
    video_id, variant, owner = verify(signing_key(state.config.master_key), token, time.time())
    principal = Principal(key=None, is_master=True)
    if owner != MASTER_OWNER:
        record = await state.stores.keys.get(owner)
        if record is None or record.revoked:
            raise NotFoundError("This media link is invalid or has expired.", code="link_expired")
        principal = Principal(key=record, is_master=False)
    ctx = request_log(request)
    ctx.video_id = video_id
    ctx.key_alias = principal.key.alias if principal.key is not None else "master"
    response = await content_response(request, state.service, principal, video_id, variant)
    response.headers["cache-control"] = "private, max-age=600"
    response.headers["referrer-policy"] = "no-referrer"
    return response


class MediaLinkBody(BaseModel):
    video_id: str
    variant: Literal["video", "thumbnail", "spritesheet"] = "video"


class MediaLink(BaseModel):
    url: str
    expires_at: int


class MediaLinkQuery(BaseModel):
    token: str


def endpoints() -> list[Endpoint]:
    from vidgate.server.routes.videos import CONTENT_REPLIES

    tag = "Dashboard"
    return [
        Endpoint(
            "POST",
            "/ui/media",
            create_link,
            "A short-lived link to one of the caller's videos (for the player: seeking needs Range)",
            tag,
            {200: Reply("The link, valid 10 minutes.", MediaLink)},
            Body({JSON: MediaLinkBody}),
        ),
        Endpoint(
            "GET",
            "/ui/media",
            serve_link,
            "The content behind a media link, with Range",
            tag,
            CONTENT_REPLIES,
            query=MediaLinkQuery,
            headers=RangeHeaders,
            auth="none",
        ),
    ]
