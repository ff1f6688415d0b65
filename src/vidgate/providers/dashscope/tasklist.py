"""DashScope's task list (``GET {base}/tasks``, Model Studio's "query task list") read into OpenAI terms.

The request is the ``dashscope`` SDK's ``VideoSynthesis.list`` (``page_no``, ``page_size``, optional
``start_time``/``end_time`` as ``YYYYMMDDhhmmss``, ``model_name``, ``status``); the reply is
``{request_id, data: [...], total, total_page, page_no, page_size}``. The item fields read here
(``task_id``, ``status``, ``model_name``, ``gmt_create`` and ``end_time`` in milliseconds) are those of
the mocked reply in DashScope's Java SDK tests (``TestBatchTextEmbedding.testListParameters``); no live
reply was seen. An item carries no video URL, size or failure reason: a download or retrieve reads the
task itself. The list holds every async task of the key (embeddings and images too), so only tasks of
this provider's catalogued video models are kept. The order of the list is not documented: read as
newest first (unverified).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vidgate.providers.base import ProviderJob
from vidgate.providers.catalogue import find_model
from vidgate.types import VideoError, VideoStatus

MAX_PAGE_SIZE = 100  # the largest page asked for (DashScope's own bound is not documented in what we read)
MAX_LIST_PAGES = 20  # pages walked to find an ``after`` cursor (DashScope pages by number)


def _millis(raw: Any) -> int | None:
    """Epoch milliseconds -> seconds (None for anything else)."""
    if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
        return raw // 1000
    return None


def read_item(item: Any, statuses: Mapping[str, VideoStatus], provider: str) -> ProviderJob | None:
    """One ``data[]`` item, or None when it is not a video task of this provider (or unreadable)."""
    if not isinstance(item, dict) or not isinstance(item.get("task_id"), str):
        return None
    model = item.get("model_name")
    native = str(item.get("status"))
    if not isinstance(model, str) or find_model(f"{provider}/{model}") is None or native not in statuses:
        return None
    status = statuses[native]
    error = None
    if native == "CANCELED":
        error = VideoError(code="cancelled", message="The task was cancelled before it started.")
    elif native == "FAILED":
        error = VideoError(
            code="generation_failed", message="DashScope reports the task failed; retrieve it for the reason."
        )
    return ProviderJob(
        native_id=item["task_id"],
        status=status,
        model=model,
        progress=100 if status == "completed" else (50 if status == "in_progress" else 0),
        created_at=_millis(item.get("gmt_create")),
        completed_at=_millis(item.get("end_time")) if status in ("completed", "failed") else None,
        error=error,
        raw=item,
    )


def more_pages(data: Mapping[str, Any], page_no: int, page_size: int, count: int) -> bool:
    """Whether pages follow ``page_no``: from ``total`` when given, else a full page means maybe."""
    total = data.get("total")
    if isinstance(total, int) and not isinstance(total, bool):
        return total > page_no * page_size
    return count == page_size
