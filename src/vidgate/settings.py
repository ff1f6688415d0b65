"""Names of the environment variables vidgate reads, in one place."""

from __future__ import annotations

import os

OPENAI_API_KEY = "OPENAI_API_KEY"
OPENAI_BASE_URL = ("OPENAI_BASE_URL", "OPENAI_API_BASE")
AZURE_API_KEY = ("AZURE_OPENAI_API_KEY", "AZURE_API_KEY")
AZURE_API_BASE = ("AZURE_OPENAI_API_BASE", "AZURE_OPENAI_ENDPOINT", "AZURE_API_BASE")
AZURE_API_VERSION = ("AZURE_OPENAI_API_VERSION", "AZURE_API_VERSION")
GEMINI_API_KEY = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
GEMINI_API_BASE = ("GEMINI_API_BASE", "GOOGLE_GEMINI_BASE_URL")
VERTEX_PROJECT = ("VERTEXAI_PROJECT", "VERTEX_PROJECT", "GOOGLE_CLOUD_PROJECT")
VERTEX_LOCATION = ("VERTEXAI_LOCATION", "VERTEX_LOCATION", "GOOGLE_CLOUD_LOCATION")
VERTEX_API_BASE = ("VERTEXAI_API_BASE", "VERTEX_API_BASE")
VERTEX_ACCESS_TOKEN = ("VERTEXAI_ACCESS_TOKEN", "VERTEX_ACCESS_TOKEN")
LOCAL_DIR = "VIDGATE_LOCAL_DIR"
LOCAL_DELAY = "VIDGATE_LOCAL_DELAY"
RENDER_THREADS = "VIDGATE_RENDER_THREADS"  # x264 threads per render (default 1: fastest overall when busy)


def env(*names: str | tuple[str, ...]) -> str | None:
    """The first non-empty value among the named environment variables."""
    for entry in names:
        for name in (entry,) if isinstance(entry, str) else entry:
            value = os.environ.get(name)
            if value:
                return value
    return None


CONFIG_FILE = "VIDGATE_CONFIG"  # `vidgate serve` hands its config path to the server's app factory
MASTER_KEY = "VIDGATE_MASTER_KEY"  # the master key when no config gives one (and for `vidgate keys`)
