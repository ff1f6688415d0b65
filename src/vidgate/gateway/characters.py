"""Characters (``POST /v1/videos/characters``, ``GET /v1/videos/characters/{id}``): a named clip a key
uploads, kept by the gateway (record in ``CharacterStore``, clip in the content store under the
character's id) and visible to that key only (anyone else gets the same 404 as an unknown id).

Creating one is free, so it reserves nothing; it counts against the key's requests-per-minute limit
like any write.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from vidgate.errors import BadRequestError, NotFoundError
from vidgate.gateway.records import CharacterRecord

if TYPE_CHECKING:
    from vidgate.gateway.auth import Principal
    from vidgate.gateway.edits import UploadedVideo
    from vidgate.gateway.service import GatewayService

CHARACTER_ID_PREFIX = "character_"
MAX_NAME_CHARS = 255


def new_character_id() -> str:
    return CHARACTER_ID_PREFIX + secrets.token_hex(16)


def character_view(record: CharacterRecord) -> dict[str, Any]:
    """OpenAI's ``VideoCreateCharacterResponse`` / ``VideoGetCharacterResponse``: id, created_at, name."""
    return {"id": record.id, "created_at": record.created_at, "name": record.name}


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


class Characters:
    def __init__(self, service: GatewayService) -> None:
        self.service = service

    async def create(self, p: Principal, name: str | None, video: UploadedVideo) -> CharacterRecord:
        if name is None or not name.strip():
            raise BadRequestError(
                "Missing required parameter: 'name'.", param="name", code="missing_required_parameter"
            )
        if len(name) > MAX_NAME_CHARS:
            raise BadRequestError(
                f"Invalid 'name': string too long. Expected at most {MAX_NAME_CHARS} characters.",
                param="name",
                code="string_above_max_length",
            )
        svc = self.service
        now = svc.clock()
        await svc.starter.check_rate(p.key, now)
        record = CharacterRecord(
            id=new_character_id(),
            owner_key_id=p.owner_id,
            name=name,
            created_at=int(now),
            media_type=video.media_type,
            bytes=len(video.data),
            seconds=float(video.seconds),
        )
        # The clip first: a record never points at a clip that is not there.
        await svc.stores.content.put(record.id, "video", _one(video.data), video.media_type)
        await svc.stores.characters.insert(record)
        return record

    async def get(self, p: Principal, character_id: str) -> CharacterRecord:
        found = None
        if character_id.startswith(CHARACTER_ID_PREFIX) and len(character_id) <= 64:
            found = await self.service.stores.characters.get(character_id)
        if found is None or found.owner_key_id != p.owner_id:
            raise NotFoundError(
                f"No character found with id '{character_id}'.",
                param="character_id",
                code="character_not_found",
            )
        return found
