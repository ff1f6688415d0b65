"""Vertex token resolution: explicit token, env var, google-auth ADC (cached until expiry), clear errors."""

from __future__ import annotations

import sys
from typing import Any

import google.auth
import google.auth.exceptions
import pytest

from vidgate.errors import AuthenticationError
from vidgate.providers.base import Credentials
from vidgate.providers.vertex_ai.auth import (
    CLOUD_PLATFORM_SCOPE,
    TokenSource,
    awith_vertex_token,
    with_vertex_token,
)

BASE = Credentials(project="p", location="us-central1")


class FakeCredentials:
    """Stands in for google.auth credentials: ``valid`` until ``expire()``; ``refresh`` mints a new token."""

    def __init__(self, quota_project_id: str | None = None, fail: bool = False) -> None:
        self.token: str | None = None
        self.valid = False
        self.refreshes = 0
        self.quota_project_id = quota_project_id
        self.fail = fail

    def refresh(self, request: Any) -> None:
        if self.fail:
            raise google.auth.exceptions.RefreshError("invalid_grant: token revoked")
        self.refreshes += 1
        self.token = f"ya29.t{self.refreshes}"
        self.valid = True

    def expire(self) -> None:
        self.valid = False


@pytest.fixture(autouse=True)
def _no_env_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VERTEXAI_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("VERTEX_ACCESS_TOKEN", raising=False)


def fake_adc(monkeypatch: pytest.MonkeyPatch, creds: FakeCredentials) -> list[Any]:
    seen: list[Any] = []

    def default(scopes: list[str] | None = None, **_: Any) -> tuple[FakeCredentials, str]:
        seen.append(scopes)
        return creds, "adc-project"

    monkeypatch.setattr(google.auth, "default", default)
    return seen


def test_explicit_token_is_kept() -> None:
    creds = Credentials(access_token="given")
    assert with_vertex_token(creds) is creds


def test_env_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERTEXAI_ACCESS_TOKEN", "from-env")
    assert with_vertex_token(BASE).access_token == "from-env"


def test_adc_is_refreshed_once_and_cached_until_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    adc = FakeCredentials(quota_project_id="billing-proj")
    scopes = fake_adc(monkeypatch, adc)
    source = TokenSource()
    first = with_vertex_token(BASE, source)
    second = with_vertex_token(BASE, source)
    assert (first.access_token, second.access_token, adc.refreshes) == ("ya29.t1", "ya29.t1", 1)
    assert scopes == [[CLOUD_PLATFORM_SCOPE]]
    assert first.extra_headers == {"x-goog-user-project": "billing-proj"}
    assert (first.project, first.location) == ("p", "us-central1")
    adc.expire()
    assert with_vertex_token(BASE, source).access_token == "ya29.t2"


async def test_async_refreshes_in_a_thread_then_uses_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    adc = FakeCredentials()
    fake_adc(monkeypatch, adc)
    source = TokenSource()
    assert source.cached() is None
    assert (await awith_vertex_token(BASE, source)).access_token == "ya29.t1"
    assert source.cached() == ("ya29.t1", None)
    assert (await awith_vertex_token(BASE, source)).access_token == "ya29.t1"
    assert adc.refreshes == 1


def test_google_auth_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "google.auth", None)
    with pytest.raises(AuthenticationError, match=r"google-auth is not installed.*vidgate\[google\]"):
        with_vertex_token(BASE, TokenSource())


def test_no_default_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    def default(**_: Any) -> Any:
        raise google.auth.exceptions.DefaultCredentialsError("Your default credentials were not found.")

    monkeypatch.setattr(google.auth, "default", default)
    with pytest.raises(AuthenticationError, match="application-default login"):
        with_vertex_token(BASE, TokenSource())


def test_refresh_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_adc(monkeypatch, FakeCredentials(fail=True))
    with pytest.raises(AuthenticationError, match="token revoked"):
        with_vertex_token(BASE, TokenSource())
