"""Kling's credential hook: the JWT its docs describe, reused until near expiry, refused without keys."""

from __future__ import annotations

import asyncio

import jwt
import pytest

from vidgate.errors import AuthenticationError
from vidgate.providers.base import Credentials
from vidgate.providers.kling.auth import TokenCache, awith_kling_token, with_kling_token

ACCESS = "ak-0123456789abcdef0123456789abcdef"
SECRET = "sk-0123456789abcdef0123456789abcdef"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_token_is_hs256_with_iss_exp_nbf_signed_with_the_secret_key() -> None:
    cache = TokenCache(Clock(1_800_000_000))
    creds = with_kling_token(Credentials(api_key=ACCESS, secret_key=SECRET), cache)
    assert creds.access_token is not None
    assert jwt.get_unverified_header(creds.access_token) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(
        creds.access_token, SECRET, algorithms=["HS256"], options={"verify_exp": False, "verify_nbf": False}
    )
    assert claims == {"iss": ACCESS, "exp": 1_800_001_800, "nbf": 1_799_999_995}
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            creds.access_token,
            "another-secret-key-of-32-bytes!!",
            algorithms=["HS256"],
            options={"verify_nbf": False},
        )


def test_a_token_is_reused_until_five_minutes_before_expiry_then_resigned() -> None:
    clock = Clock(1_800_000_000)
    cache = TokenCache(clock)
    first = cache.token(ACCESS, SECRET)
    clock.now += 1800 - 301
    assert cache.token(ACCESS, SECRET) == first
    clock.now += 1
    renewed = cache.token(ACCESS, SECRET)
    assert renewed != first
    claims = jwt.decode(
        renewed, SECRET, algorithms=["HS256"], options={"verify_exp": False, "verify_nbf": False}
    )
    assert claims["exp"] == 1_800_000_000 + 1800 - 300 + 1800


def test_missing_keys_are_an_authentication_error_naming_the_variable() -> None:
    with pytest.raises(AuthenticationError, match="KLING_SECRET_KEY"):
        with_kling_token(Credentials(api_key=ACCESS))
    with pytest.raises(AuthenticationError, match="KLING_ACCESS_KEY"):
        asyncio.run(awith_kling_token(Credentials(secret_key=SECRET)))
