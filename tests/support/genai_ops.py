"""Polling a google-genai video operation (the emulator tests drive the emulators with the real SDK)."""

from __future__ import annotations

import time

from google import genai
from google.genai import types


def wait(client: genai.Client, op: types.GenerateVideosOperation) -> types.GenerateVideosOperation:
    """Poll ``op`` through ``client`` until it is done (fails the test if it never is)."""
    for _ in range(600):
        if op.done:
            return op
        time.sleep(0.02)
        op = client.operations.get(op)
    raise AssertionError(f"operation {op.name} never finished")
