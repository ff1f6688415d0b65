"""Deployment settings of an OpenAI-compatible videos server: where it is, an optional key, and the
dialect it speaks (how ``seconds`` is typed, multipart or JSON, where pass-through fields go)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

from pydantic import field_validator

from vidgate.providers.base import Credentials
from vidgate.providers.spec import ProviderConfig, setting
from vidgate.types import CONTENT_VARIANTS


class OpenAICompatibleConfig(ProviderConfig):
    # a self-hosted server's base is never vidgate.api_base (that is the caller's gateway)
    uses_module_defaults: ClassVar[bool] = False

    api_base: str | None = setting(
        env=("OPENAI_COMPATIBLE_API_BASE",),
        required=True,
        help="the server's /v1 root (api_base, e.g. http://gpu-1:8000/v1)",
    )
    api_key: str | None = setting(
        env=("OPENAI_COMPATIBLE_API_KEY",), secret=True, help="a key, when the server requires one"
    )
    seconds_type: Literal["string", "integer"] = setting(
        "string", help="'integer' sends seconds as a JSON number (NVIDIA Dynamo); 'string' as OpenAI"
    )
    request_format: Literal["multipart", "json"] = setting(
        "multipart", help="the create body: multipart/form-data (vLLM-Omni, SGLang, OpenAI) or JSON"
    )
    extra_fields: Literal["fields", "extra_body"] = setting(
        "fields",
        help="'fields': each extra_body key is its own field (engines); 'extra_body': nested under "
        "extra_body (an upstream vidgate gateway)",
    )

    content_variants: str = setting(
        "video",
        help="comma-separated /content variants the server has (video, thumbnail, spritesheet); "
        "vLLM-Omni and SGLang serve the video only, another vidgate all three",
    )

    @field_validator("content_variants")
    @classmethod
    def _variants(cls, value: str) -> str:
        names = [v.strip() for v in value.split(",") if v.strip()]
        unknown = sorted(set(names) - set(CONTENT_VARIANTS))
        if unknown or "video" not in names:
            raise ValueError(
                f"expected a comma-separated list of {', '.join(CONTENT_VARIANTS)} including video, "
                f"got '{value}'"
            )
        return ",".join(dict.fromkeys(names))

    def credentials(self, extra_headers: Mapping[str, str]) -> Credentials:
        return Credentials(
            api_key=self.api_key,
            api_base=self.api_base,
            extra_headers=dict(extra_headers),
            options={
                "seconds_type": self.seconds_type,
                "request_format": self.request_format,
                "extra_fields": self.extra_fields,
                "content_variants": self.content_variants,
            },
        )
