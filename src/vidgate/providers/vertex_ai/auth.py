"""Vertex AI access tokens. Adapters do no I/O, so the Bearer token is resolved here, before a flow runs.

Order: ``Credentials.access_token`` as given; else ``VERTEXAI_ACCESS_TOKEN`` (or ``VERTEX_ACCESS_TOKEN``);
else google-auth's application-default credentials (scope cloud-platform), refreshed when expired and
cached until then. google-auth is an optional extra (``pip install 'vidgate[google]'``); without it, or
without configured credentials, the answer is an AuthenticationError that says what to do.

Use ``with_vertex_token(creds)`` (sync) or ``await awith_vertex_token(creds)`` (async: the refresh, a
blocking HTTP call inside google-auth, runs in a worker thread) to get Credentials carrying the token.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import anyio

from vidgate.errors import AuthenticationError
from vidgate.providers.base import Credentials
from vidgate.settings import env

VERTEX_ACCESS_TOKEN = ("VERTEXAI_ACCESS_TOKEN", "VERTEX_ACCESS_TOKEN")  # read per call: tokens expire
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
_HOW = (
    "Pass vertex_access_token (SDK; `access_token` in the gateway config), set VERTEXAI_ACCESS_TOKEN "
    "(e.g. to `gcloud auth print-access-token`), or install "
    "google-auth (pip install 'vidgate[google]') and run `gcloud auth application-default login` "
    "(or set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file)."
)


def _auth_error(reason: str) -> AuthenticationError:
    return AuthenticationError(
        f"No Vertex AI access token: {reason}. {_HOW}", code="missing_access_token", provider="vertex_ai"
    )


class TokenSource:
    """Application-default credentials, loaded once and refreshed only when expired (thread-safe)."""

    def __init__(self, scopes: tuple[str, ...] = (CLOUD_PLATFORM_SCOPE,)) -> None:
        self.scopes = scopes
        self._lock = threading.Lock()
        self._credentials: Any = None

    def cached(self) -> tuple[str, str | None] | None:
        """The token and quota project if a still-valid token is cached (no I/O)."""
        creds = self._credentials
        if creds is not None and creds.valid and creds.token:
            return str(creds.token), getattr(creds, "quota_project_id", None)
        return None

    def token(self) -> tuple[str, str | None]:
        """A valid token and the credentials' quota project; loads and refreshes as needed (blocking)."""
        with self._lock:
            if self._credentials is None:
                self._credentials = _load_default(self.scopes)
            creds = self._credentials
            if not (creds.valid and creds.token):
                _refresh(creds)
            if not creds.token:
                raise _auth_error("google-auth returned no token")
            return str(creds.token), getattr(creds, "quota_project_id", None)


def _load_default(scopes: tuple[str, ...]) -> Any:
    try:
        import google.auth
        import google.auth.exceptions
    except ImportError as exc:
        raise _auth_error("google-auth is not installed") from exc
    try:
        credentials, _project = google.auth.default(scopes=list(scopes))
    except google.auth.exceptions.DefaultCredentialsError as exc:
        raise _auth_error(f"no application-default credentials were found ({exc})") from exc
    return credentials


def _refresh(credentials: Any) -> None:
    try:
        import google.auth.exceptions
        from google.auth.transport.requests import Request
    except ImportError as exc:
        raise _auth_error("refreshing a token needs google-auth with 'requests' installed") from exc
    try:
        credentials.refresh(Request())
    except google.auth.exceptions.GoogleAuthError as exc:
        raise _auth_error(f"refreshing the application-default credentials failed ({exc})") from exc


_DEFAULT = TokenSource()


def _with(creds: Credentials, token: str, quota_project: str | None) -> Credentials:
    headers = dict(creds.extra_headers)
    if quota_project and not any(k.lower() == "x-goog-user-project" for k in headers):
        headers["x-goog-user-project"] = quota_project
    return replace(creds, access_token=token, extra_headers=headers)


def with_vertex_token(creds: Credentials, source: TokenSource | None = None) -> Credentials:
    """``creds`` with ``access_token`` filled in (unchanged if it already has one)."""
    if creds.access_token:
        return creds
    from_env = env(VERTEX_ACCESS_TOKEN)
    if from_env:
        return replace(creds, access_token=from_env)
    token, quota_project = (source or _DEFAULT).token()
    return _with(creds, token, quota_project)


async def awith_vertex_token(creds: Credentials, source: TokenSource | None = None) -> Credentials:
    """Async ``with_vertex_token``: a cached valid token is used directly, a refresh runs in a thread."""
    if creds.access_token:
        return creds
    from_env = env(VERTEX_ACCESS_TOKEN)
    if from_env:
        return replace(creds, access_token=from_env)
    chosen = source or _DEFAULT
    cached = chosen.cached()
    if cached is None:
        cached = await anyio.to_thread.run_sync(chosen.token)
    return _with(creds, *cached)
