"""The local renderer: real MP4s made on this machine, offline and free (no emulator: it is its own)."""

from vidgate.providers.base import Provider
from vidgate.providers.local.config import LocalConfig
from vidgate.providers.spec import ProviderSpec


def _adapter() -> Provider:
    """Imported on first use: the renderer needs the ``local`` extra (PyAV, numpy)."""
    from vidgate.providers.local.adapter import LocalProvider

    return LocalProvider()


SPEC = ProviderSpec(
    name="local",
    package=__name__,
    adapter=_adapter,
    config=LocalConfig,
    description="Local renderer (offline)",
    blocking=True,  # files, image decoding and (for an edit of its own video) rendering
)
