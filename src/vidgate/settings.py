"""Names of the environment variables vidgate reads, in one place."""

from __future__ import annotations

import os

# A provider's own variables are declared by its config model (``ProviderSpec.config``).
OPENAI_API_KEY = "OPENAI_API_KEY"  # the key the SDK sends to a gateway in proxy mode (OpenAI's convention)
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
