"""BytePlus ModelArk's Seedance routes on loopback (``vidgate emulate byteplus``). Imports no adapter code."""

from __future__ import annotations

from starlette.applications import Starlette

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers._ark_wire.emulator_app import ark_app


def create_app(settings: EmulatorSettings | None = None) -> Starlette:
    return ark_app(settings or EmulatorSettings(), "vidgate.providers.byteplus", "byteplus")
