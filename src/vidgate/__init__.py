"""vidgate: one OpenAI-style Videos API over every video-generation provider.

    import vidgate
    video = vidgate.video_generation(model="local/local-1", prompt="a cat", seconds="2", size="320x180")
    with vidgate.Client() as client:
        done = client.videos.wait(video.id)
        client.videos.stream_content(done.id, "cat.mp4")

``api_key`` / ``api_base``: module-wide defaults, used when a call passes none (before env vars). An
``api_base`` set here sends every bare model name (``"veo-3"``, ``"sora-2"``) to that OpenAI-compatible
gateway as the gateway's own name; ``"provider/model"`` names still go to the provider. Lifecycle: calls
on deprecated or retired models emit ``LifecycleWarning`` but still go out.
"""

from vidgate.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
    ConflictError,
    ContentPolicyViolationError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    Timeout,
    UnsupportedOperationError,
)
from vidgate.exceptions import OpenAIError
from vidgate.sdk import (
    AsyncClient,
    Client,
    LifecycleWarning,
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
from vidgate.types import ImageInput, Video, VideoBytes, VideoDeleted, VideoError, VideoList, VideoUsage

__version__ = "0.1.0"

api_key: str | None = None
api_base: str | None = None

__all__ = [
    "APIConnectionError",
    "APIError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceededError",
    "Client",
    "ConflictError",
    "ContentPolicyViolationError",
    "ImageInput",
    "InternalServerError",
    "LifecycleWarning",
    "NotFoundError",
    "OpenAIError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServiceUnavailableError",
    "Timeout",
    "UnsupportedOperationError",
    "Video",
    "VideoBytes",
    "VideoDeleted",
    "VideoError",
    "VideoList",
    "VideoUsage",
    "acreate_video",
    "api_base",
    "api_key",
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
