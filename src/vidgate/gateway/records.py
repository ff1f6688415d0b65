"""The gateway's records: keys, jobs, owed cancels and spend entries. Plain data; stores persist them."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal, TypeAlias

from vidgate.types import VideoStatus

ApiSurface = Literal["openai", "gemini", "vertex_ai"]
ReservationState = Literal["reserved", "settled", "released"]


KEY_ADMIN_FIELDS: tuple[str, ...] = (
    "alias",
    "models",
    "max_budget_micros",
    "budget_duration",
    "rpm_limit",
    "max_parallel_requests",
    "metadata",
    "revoked",
)
"""The KeyRecord fields ``KeyStore.save`` writes; every other field is a counter owned by the ledger."""


@dataclass
class KeyRecord:
    """A virtual key. Only ``key_hash`` (sha256 hex of the secret) is stored, never the secret."""

    id: str
    key_hash: str
    key_prefix: str  # first characters of the secret, for display ("sk-vg-3f9a...")
    alias: str | None = None
    models: tuple[str, ...] = ()  # public model names this key may use; empty = all
    max_budget_micros: int | None = None
    budget_duration: str | None = None  # "30d", "12h", "1mo" ...; None = the budget never resets
    budget_reset_at: int | None = None  # unix s when the current budget period ends
    spend_micros: int = 0  # settled spend in the current period
    total_spend_micros: int = 0  # settled spend ever
    reserved_micros: int = 0  # outstanding reservations
    active_jobs: int = 0  # jobs holding a concurrency slot
    rpm_limit: int | None = None
    max_parallel_requests: int | None = None  # max concurrent (non-terminal) jobs
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: int = 0
    revoked: bool = False


KeySort = Literal[
    "created_at", "token", "key_alias", "spend", "total_spend", "max_budget", "budget_reset_at", "rpm_limit"
]
"""What ``/key/list`` sorts by: LiteLLM's ``sort_by`` columns that vidgate's keys have (``token`` is
the key's id)."""
KEY_SORT_FIELDS: dict[KeySort, str] = {
    "created_at": "created_at",
    "token": "id",
    "key_alias": "alias",
    "spend": "spend_micros",
    "total_spend": "total_spend_micros",
    "max_budget": "max_budget_micros",
    "budget_reset_at": "budget_reset_at",
    "rpm_limit": "rpm_limit",
}
"""Each sort's KeyRecord field (and SQL column)."""


@dataclass(frozen=True)
class KeyQuery:
    """One page of keys (``KeyStore.page``), LiteLLM's ``/key/list`` filters, all of them applying.

    ``token``: a key's id or its secret's sha256 (LiteLLM's ``key_hash``); ``alias``: exact;
    ``alias_contains`` and the alias half of ``search``: case-insensitive (every letter folded),
    ``search`` also matching a token. Sorted by ``sort`` (absent values last whichever the direction),
    ties broken by id in the same direction, so a page is the same on every backend and every read."""

    offset: int = 0
    limit: int = 10
    token: str | None = None
    alias: str | None = None
    alias_contains: str | None = None
    search: str | None = None
    revoked: bool | None = None
    sort: KeySort = "created_at"
    descending: bool = True


@dataclass
class JobRecord:
    """A video job. ``deployment_id`` pins the deployment (and so the credentials and base URL) that
    created it: every follow-up (status, content, remix, delete) goes there and nowhere else."""

    id: str  # opaque public id, "video_" + hex
    owner_key_id: str
    model_name: str  # the public model name the caller used
    deployment_id: str
    provider: str
    native_id: str
    status: VideoStatus
    created_at: int
    size: str
    seconds: str
    api_surface: ApiSurface = "openai"
    progress: int = 0
    prompt: str | None = None
    n: int = 1
    completed_at: int | None = None
    expires_at: int | None = None
    remixed_from: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    reserved_micros: int = 0
    cost_micros: int | None = None  # settled cost; None until settled
    content_stored: bool = False  # the finished video is in the content store
    next_poll_at: float = 0.0
    poll_failures: int = 0
    lease_owner: str | None = None
    lease_expires_at: float | None = None
    native_payload: dict[str, Any] = field(default_factory=dict)  # last provider reply (pass-through)
    deleted: bool = False
    version: int = 0  # optimistic concurrency: bumped by every successful save
    # How many videos the provider returned when the job completed (Veo's sampleCount > 1 may come back
    # with some samples safety-filtered); None when the provider does not say (then all ``n``). Only
    # returned videos are charged.
    videos_generated: int | None = None
    # Token-priced rows: the output tokens the reservation covers and the micros reserved for them;
    # ``output_tokens`` is what the provider reported at completion (None: not reported, charge the bound).
    token_bound: int = 0
    token_micros: int = 0
    output_tokens: int | None = None
    webhook_pending: bool = False  # a terminal-state event is owed to the webhook URL (cleared on delivery)
    webhook_failures: int = 0  # failed delivery attempts of that event
    # The create's ``callback_url`` (OpenRouter's per-job webhook): the terminal-state event goes there
    # too, owed and retried with the same mark (``webhook_pending``) as the global webhook's.
    callback_url: str | None = None
    # Write-ahead: stored before the provider's create is called (``native_id`` is then a placeholder
    # and the creating process holds the lease). Cleared when the provider's answer is recorded; a job
    # still submitting once its lease expired is resolved by the poller (``JobKeeper.resolve``).
    submitting: bool = False
    # Observability: the W3C traceparent of the request that created the job (its polls, settlement and
    # content copy join that trace), and how many status polls were sent upstream.
    trace_parent: str | None = None
    upstream_polls: int = 0
    # sha256 hex of the per-job secret in the callback URL the provider was given (None: no callback;
    # the job is polled as usual). Only the hash is stored: a database reader cannot forge a callback.
    provider_callback_hash: str | None = None
    # What the job was asked to do (``types.VideoTask``: generate, edit, extend) and, for an edit or an
    # extension of an earlier gateway video, that video's id (None for an uploaded source).
    task: str = "generate"
    source_video_id: str | None = None
    # The provider's output references once completed (file URIs, gs:// URIs, URLs): what an edit or
    # extension of this job on the same deployment may name (``SourceVideo.outputs``).
    outputs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class JobSummary:
    """A job as a listing shows it (``JobStore.list_for_owner``): what its ``Video`` reads and nothing
    else, so a page of 20 neither fetches nor decodes the provider's payload, outputs, lease and webhook
    state of each job (about 50 columns, two of them JSON)."""

    id: str
    model_name: str
    status: VideoStatus
    progress: int
    created_at: int
    completed_at: int | None
    expires_at: int | None
    prompt: str | None
    size: str
    seconds: str
    remixed_from: str | None
    error_code: str | None
    error_message: str | None
    reserved_micros: int
    cost_micros: int | None
    n: int
    videos_generated: int | None


SUMMARY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(JobSummary))
"""``JobSummary``'s fields in order (each a ``JobRecord`` field and a jobs column of that name)."""

VideoFacts: TypeAlias = JobRecord | JobSummary
"""What a job's ``Video`` view reads (``views.to_video``): a whole record (a create, a status poll) or a
listing's summary."""


def summary(job: JobRecord) -> JobSummary:
    """``job`` as a listing shows it."""
    return JobSummary(*(getattr(job, name) for name in SUMMARY_FIELDS))


@dataclass
class OwedCancel:
    """The cancel owed to a provider's job nobody pays for (``gateway.cancels``): one the provider accepted
    only after the gateway had resolved its create's write-ahead record. Kept apart from the jobs row: the
    late job may be one no record holds (its record holds another upstream job), and its tries must not
    share the job's poll or webhook schedule. One per (``deployment_id``, ``native_id``)."""

    deployment_id: str
    native_id: str
    video_id: str  # the gateway video whose create it answered (logs, tracing)
    provider: str
    created_at: int
    next_try_at: float  # due to the poller from then (``OwedCancelStore.claim_due``)
    tries: int = 0  # failed tries so far
    lease_owner: str | None = None  # who is trying it now (the creating process, or a poller)
    lease_expires_at: float | None = None


@dataclass
class CharacterRecord:
    """A character (``POST /v1/videos/characters``): a named clip owned by one key. Its video bytes are
    in the content store under ``id`` (variant ``video``)."""

    id: str  # "character_" + 32 lower-case hex
    owner_key_id: str
    name: str
    created_at: int
    media_type: str
    bytes: int
    seconds: float


@dataclass
class SpendEntry:
    """One settled charge: written once per job, in the same transaction as the settlement."""

    id: str
    key_id: str
    job_id: str
    model_name: str
    deployment_id: str
    seconds: float
    size: str
    cost_micros: int
    created_at: int
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class IdempotencyRecord:
    """A paid POST made with an ``Idempotency-Key``: scoped to the caller's key (``owner_key_id``),
    the request's ``fingerprint``, the ``claim`` (random) of the request that holds it, and the job it
    started, linked when that job's write-ahead record is stored."""

    owner_key_id: str
    key: str
    fingerprint: str
    claim: str
    created_at: int
    job_id: str | None = None


@dataclass(frozen=True)
class ContentInfo:
    size: int
    media_type: str
