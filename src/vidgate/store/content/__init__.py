"""Content stores: where the gateway keeps finished videos."""

from vidgate.store.content.filesystem import FileContentStore

__all__ = ["FileContentStore"]
