"""BytePlus ModelArk: the shared Ark task flows on the Southeast Asia host."""

from __future__ import annotations

from typing import ClassVar

from vidgate.providers._ark_wire.flows import ArkProvider


class BytePlusProvider(ArkProvider):
    name: ClassVar[str] = "byteplus"
    default_api_base: ClassVar[str] = "https://ark.ap-southeast.bytepluses.com/api/v3"
    key_env: ClassVar[str] = "BYTEPLUS_API_KEY or ARK_API_KEY"
