"""Volcengine Ark: the shared Ark task flows on the Beijing host."""

from __future__ import annotations

from typing import ClassVar

from vidgate.providers._ark_wire.flows import ArkProvider


class VolcengineProvider(ArkProvider):
    name: ClassVar[str] = "volcengine"
    default_api_base: ClassVar[str] = "https://ark.cn-beijing.volces.com/api/v3"
    key_env: ClassVar[str] = "VOLCENGINE_API_KEY or ARK_API_KEY"
