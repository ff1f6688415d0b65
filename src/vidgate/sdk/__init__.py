"""The SDK: ``Client`` / ``AsyncClient`` and the seed-named module functions (re-exported by ``vidgate``)."""

from vidgate.sdk.aclient import AsyncClient, AsyncVideos
from vidgate.sdk.client import Client, Videos
from vidgate.sdk.functions import (
    acreate_video,
    avideo_content,
    avideo_delete,
    avideo_generation,
    avideo_list,
    avideo_remix,
    avideo_retrieval,
    avideo_retrieve,
    avideo_status,
    create_video,
    video_content,
    video_delete,
    video_generation,
    video_list,
    video_remix,
    video_retrieval,
    video_retrieve,
    video_status,
)
from vidgate.sdk.lifecycle import LifecycleWarning

__all__ = [
    "AsyncClient",
    "AsyncVideos",
    "Client",
    "LifecycleWarning",
    "Videos",
    "acreate_video",
    "avideo_content",
    "avideo_delete",
    "avideo_generation",
    "avideo_list",
    "avideo_remix",
    "avideo_retrieval",
    "avideo_retrieve",
    "avideo_status",
    "create_video",
    "video_content",
    "video_delete",
    "video_generation",
    "video_list",
    "video_remix",
    "video_retrieval",
    "video_retrieve",
    "video_status",
]
