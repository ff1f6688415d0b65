"""The provider interface: sans-I/O flows that yield HTTP calls and return results.

An adapter never opens a socket. Each operation is a generator: it yields ``HttpCall``s, receives
``HttpReply``s (a reply with an error status is *thrown* into the generator as the provider's mapped
``APIError``, so a flow may catch e.g. ``NotFoundError``), and returns its result. The runners in
``vidgate.transport`` drive every flow, sync or async; tests drive them with recorded replies.
"""

from __future__ import annotations

import json as _json
import math
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

from vidgate.catalog.pricing import Usage
from vidgate.errors import APIError, InternalServerError, UnsupportedOperationError
from vidgate.inputs import unstorable_reason
from vidgate.providers.reserved import COMMON_RESERVED
from vidgate.types import VideoError, VideoRequest, VideoStatus

T = TypeVar("T")

FileTuple = tuple[str, bytes, str]  # (filename, content, content type)


@dataclass(frozen=True)
class HttpCall:
    """One HTTP request a flow needs. ``retry_safe`` is False for a paid create: never blindly re-sent."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    data: Mapping[str, str] | None = None
    files: Sequence[tuple[str, FileTuple]] | None = None  # not None (even empty): multipart/form-data
    retry_safe: bool = True
    follow_redirects: bool = True
    ok_statuses: frozenset[int] = frozenset()  # non-2xx statuses the flow wants to see, not raise
    # The longest wait in seconds to connect or for the provider's next bytes; None: the client's own.
    # Set by the gateway from the deployment's ``timeout``, not by flows.
    read_timeout: float | None = None


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: Mapping[str, str]  # lower-case names
    content: bytes = b""
    url: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        return _json.loads(self.content) if self.content else None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


Flow = Generator[HttpCall, HttpReply, T]


class Capability(StrEnum):
    CREATE = "create"
    RETRIEVE = "retrieve"
    DOWNLOAD = "download"
    REMIX = "remix"
    LIST = "list"
    DELETE = "delete"


@dataclass(frozen=True)
class Credentials:
    """Where and as whom to call a provider. One deployment = one Credentials; follow-ups reuse it."""

    api_key: str | None = None
    api_base: str | None = None
    api_version: str | None = None
    organization: str | None = None
    project: str | None = None  # Vertex project
    location: str | None = None  # Vertex location
    access_token: str | None = None  # a bearer token a credential hook made (Vertex OAuth2, a signed JWT)
    secret_key: str | None = None  # a signing secret a credential hook turns into access_token (Kling)
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    # A provider's own wire settings (a dialect choice such as how ``seconds`` is typed), set by its
    # config model's ``credentials`` and read only by its adapter.
    options: Mapping[str, str] = field(default_factory=dict)
    # Set on a create only (``gateway.calls``): where the provider should call the gateway back.
    provider_callback: ProviderCallback | None = None


@dataclass(frozen=True)
class ProviderCallback:
    """Where a provider calls the gateway back when a job changes state, instead of being polled.

    ``url`` is the gateway's own (it carries the job id and ``secret``); ``secret`` is unguessable and
    per job: providers that sign with a secret the caller chooses (BFL's ``webhook_secret``) sign with it."""

    url: str
    secret: str


@dataclass(frozen=True)
class CallbackDelivery:
    """One incoming provider callback, as received: the adapter verifies and reads it.

    ``headers`` have lower-case names; ``body`` is the raw bytes (signatures cover them); ``native_id``
    is the job the callback URL names (a callback about another job is refused); ``now`` is the
    gateway's clock (signature timestamps are checked against it)."""

    native_id: str
    headers: Mapping[str, str]
    body: bytes
    secret: str
    now: float

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """The body as JSON, or InvalidCallback."""
        try:
            return _json.loads(self.body)
        except ValueError as exc:
            raise InvalidCallback("the callback body is not JSON") from exc


@dataclass(frozen=True)
class CallbackAnswer:
    """What a callback that reports no job state must be answered with (a URL-ownership challenge)."""

    body: Mapping[str, Any]


class InvalidCallback(Exception):
    """A callback that is not verifiably the provider's about this job (bad or stale signature, wrong
    job, unreadable body): refused, nothing changes."""


@dataclass(frozen=True)
class ProviderJob:
    """A provider's job, read into OpenAI terms."""

    native_id: str
    status: VideoStatus
    model: str
    progress: int = 0
    created_at: int | None = None
    completed_at: int | None = None
    expires_at: int | None = None
    prompt: str | None = None
    size: str | None = None
    seconds: str | None = None
    remixed_from: str | None = None
    error: VideoError | None = None
    poll_after_ms: int | None = None  # the provider's hint for the next poll
    outputs: tuple[str, ...] = ()  # provider output references (file URIs, gs:// URIs)
    usage: Usage | None = None  # what the provider reports it billed (output tokens), settled at completion
    raw: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Whatever an adapter read, the numbers a job carries stay in range: a time that is no epoch
        second up to year 9999, a poll hint past a day, or a progress outside 0-100 is dropped (progress
        clamped), and an error code is cut to what the store holds; so is its text (below). A provider's
        ``1e30`` used to reach the store after the job's money moved: the save failed (a BIGINT
        overflow), the key was charged and the job stayed open, every poll a 500."""
        for name in ("created_at", "completed_at", "expires_at"):
            object.__setattr__(self, name, in_range(getattr(self, name), 0, LATEST_EPOCH_SECOND))
        object.__setattr__(self, "poll_after_ms", in_range(self.poll_after_ms, 0, MAX_POLL_AFTER_MS))
        progress = self.progress
        if isinstance(progress, float):  # an adapter may pass a provider's float percentage through
            progress = int(progress) if math.isfinite(progress) else 0
        progress = progress if type(progress) is int else 0
        object.__setattr__(self, "progress", max(0, min(100, progress)))
        if self.error is not None and len(self.error.code) > MAX_ERROR_CODE:
            object.__setattr__(
                self, "error", VideoError(code=self.error.code[:MAX_ERROR_CODE], message=self.error.message)
            )
        # Text the store keeps: a size or duration it cannot hold is not reported (the request's is
        # kept); a job id it cannot hold makes the reply unusable, as a reply without one is.
        for name, limit in (("size", MAX_SIZE), ("seconds", MAX_SECONDS)):
            value = getattr(self, name)
            if value is not None and not fits_store(value, limit):
                object.__setattr__(self, name, None)
        if isinstance(self.native_id, str) and not fits_store(self.native_id, MAX_NATIVE_ID):
            raise InternalServerError(
                f"The provider's job id cannot be stored ({len(self.native_id)} characters; at most "
                f"{MAX_NATIVE_ID}, without NUL or unpaired surrogates): {self.native_id[:80]!r}."
            )


LATEST_EPOCH_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z
MAX_POLL_AFTER_MS = 86_400_000
MAX_ERROR_CODE = 255  # the jobs table's error_code column
MAX_NATIVE_ID = 1024  # ... its native_id (PostgreSQL enforces these lengths; a save over them fails)
MAX_SIZE = 32  # ... its size
MAX_SECONDS = 16  # ... its seconds


def fits_store(text: str, limit: int) -> bool:
    """Whether every store holds ``text`` as it is: at most ``limit`` characters, storable text."""
    return len(text) <= limit and unstorable_reason(text) is None


def in_range(value: object, low: int, high: int) -> int | None:
    """``value`` if it is an int (not a bool) from ``low`` to ``high``, else None."""
    return value if type(value) is int and low <= value <= high else None


@dataclass(frozen=True)
class ProviderPage:
    jobs: tuple[ProviderJob, ...]
    has_more: bool = False


@dataclass(frozen=True)
class Download:
    """Where a video's bytes are. Exactly one of ``call`` (stream it), ``data`` (inline, e.g. Vertex
    base64) or ``produce`` (a local file made on demand, run off the event loop) is set."""

    media_type: str
    call: HttpCall | None = None
    data: bytes | None = None
    produce: Callable[[], Path] | None = None


class Provider(Protocol):
    name: ClassVar[str]
    # Native names of fields the gateway validates, permits or prices -> the first-class parameter to
    # use: never accepted through ``extra_body`` (``providers.reserved``).
    reserved_params: ClassVar[Mapping[str, str]]

    def create(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]: ...
    def retrieve(self, native_id: str, creds: Credentials) -> Flow[ProviderJob]: ...
    def download(self, native_id: str, variant: str, creds: Credentials) -> Flow[Download]: ...
    def remix(self, native_id: str, prompt: str, creds: Credentials) -> Flow[ProviderJob]: ...
    def list(
        self, creds: Credentials, *, after: str | None, limit: int, order: str
    ) -> Flow[ProviderPage]: ...
    def delete(self, native_id: str, creds: Credentials) -> Flow[bool]: ...
    def error_for(self, reply: HttpReply) -> APIError: ...


class CallbackReader(Protocol):
    """An adapter of a provider that can call back (``ProviderSpec.provider_callbacks``)."""

    def parse_callback(
        self, delivery: CallbackDelivery, creds: Credentials
    ) -> Flow[ProviderJob | CallbackAnswer]:
        """Verify ``delivery`` (the provider's signature where it signs; InvalidCallback otherwise) and
        read the job state it reports; may fetch what verification needs (signing keys)."""
        ...


class BaseProvider:
    """Shared defaults: operations an adapter does not implement answer UnsupportedOperationError.
    Which models offer them is declared once, in the catalogue rows (features remix/list/delete)."""

    name: ClassVar[str] = "base"
    reserved_params: ClassVar[Mapping[str, str]] = COMMON_RESERVED
    # Whether ``extra_body`` may hold uploaded files (``types.FilePart``) this adapter forwards as parts.
    extra_file_parts: ClassVar[bool] = False

    def _absent(self, operation: str) -> UnsupportedOperationError:
        return UnsupportedOperationError(operation, self.name)

    def remix(self, native_id: str, prompt: str, creds: Credentials) -> Flow[ProviderJob]:
        raise self._absent("remix")
        yield  # pragma: no cover - makes this a generator

    def list(self, creds: Credentials, *, after: str | None, limit: int, order: str) -> Flow[ProviderPage]:
        raise self._absent("list")
        yield  # pragma: no cover

    def delete(self, native_id: str, creds: Credentials) -> Flow[bool]:
        raise self._absent("delete")
        yield  # pragma: no cover


ErrorMapper = Callable[[HttpReply], APIError]


def outcome(call: HttpCall, reply: HttpReply, error_for: ErrorMapper) -> HttpReply | APIError:
    """What a flow receives for ``reply``: the reply itself, or the mapped error to be thrown in."""
    if reply.ok or reply.status in call.ok_statuses:
        return reply
    return error_for(reply)


def advance(flow: Flow[T], received: HttpReply | APIError | None) -> HttpCall:
    """Send ``received`` into the flow (throwing it if it is an error); the next call, or StopIteration."""
    if received is None:
        return next(flow)
    if isinstance(received, APIError):
        return flow.throw(received)
    return flow.send(received)


def drive(
    flow: Flow[T], replies: Sequence[HttpReply], error_for: ErrorMapper | None = None
) -> tuple[T, list[HttpCall]]:
    """Run a flow against recorded replies (for tests): returns the result and the calls it made.

    Every recorded reply must be used: a flow that makes fewer calls than recorded fails too."""
    calls: list[HttpCall] = []
    pending = list(replies)
    received: HttpReply | APIError | None = None
    try:
        while True:
            call = advance(flow, received)
            calls.append(call)
            if not pending:
                raise AssertionError(f"flow made an unexpected call: {call.method} {call.url}")
            reply = pending.pop(0)
            received = outcome(call, reply, error_for) if error_for else reply
    except StopIteration as stop:
        if pending:
            raise AssertionError(f"flow finished with {len(pending)} recorded replies unused") from None
        return stop.value, calls
