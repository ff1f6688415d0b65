"""Who is calling: the master key or a virtual key, looked up by the sha256 of the presented secret.

Lookups are cached for ``ttl`` seconds (hits only: a new key works at once); every key change made
through this process invalidates the cache, other replicas see a change within ``ttl``.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from vidgate.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from vidgate.gateway.keys import hash_secret
from vidgate.gateway.ports import KeyStore
from vidgate.gateway.records import KeyRecord

MASTER_OWNER = "master"


@dataclass(frozen=True)
class Principal:
    key: KeyRecord | None  # None for the master key
    is_master: bool

    @property
    def owner_id(self) -> str:
        return self.key.id if self.key is not None else MASTER_OWNER

    def may_use(self, model_name: str) -> bool:
        """A key's ``models`` lists the public model names it may use; empty means all."""
        return self.key is None or not self.key.models or model_name in self.key.models

    def require_model(self, model_name: str, known: bool, served: Iterable[str] = ()) -> None:
        """Unknown model and model not allowed for this key answer the same 404 (OpenAI's wording), so a
        key cannot probe which models exist; the message lists the ``served`` models this key may use."""
        if not known or not self.may_use(model_name):
            usable = sorted(name for name in set(served) if self.may_use(name))
            listed = f" Models available to this key: {', '.join(usable)}." if usable else ""
            shown = model_name if len(model_name) <= 200 else model_name[:200] + "..."  # a name of any length
            raise NotFoundError(
                f"The model '{shown}' does not exist or you do not have access to it.{listed}",
                param="model",
                code="model_not_found",
            )

    def require_master(self, action: str) -> None:
        if not self.is_master:
            raise PermissionDeniedError(
                f"Only the master key may {action}.", code="master_key_required", type="permission_denied"
            )


def missing_key() -> AuthenticationError:
    return AuthenticationError(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using "
        "Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        code="missing_api_key",
    )


def revoked_key() -> AuthenticationError:
    """The 401 for a revoked (blocked) key: at authentication, and where a paid start finds the key
    blocked since (``Authenticator.current``, every ``Ledger.reserve``)."""
    return AuthenticationError("This API key has been revoked.", code="revoked_api_key")


def invalid_key(secret: str) -> AuthenticationError:
    shown = f"{secret[:6]}...{secret[-4:]}" if len(secret) > 12 else "***"
    return AuthenticationError(f"Incorrect API key provided: {shown}.", code="invalid_api_key")


class Authenticator:
    def __init__(
        self,
        keys: KeyStore,
        master_key: str | None,
        *,
        ttl: float = 2.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._keys = keys
        self._master_hash = hash_secret(master_key) if master_key else None
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._cache: dict[str, tuple[KeyRecord, float]] = {}

    async def authenticate(self, secret: str | None) -> Principal:
        if not secret:
            raise missing_key()
        digest = hash_secret(secret)
        if self._master_hash is not None and hmac.compare_digest(digest, self._master_hash):
            return Principal(key=None, is_master=True)
        record = await self._lookup(digest)
        if record is None:
            raise invalid_key(secret)
        if record.revoked:
            raise revoked_key()
        return Principal(key=record, is_master=False)

    async def current(self, p: Principal) -> Principal:
        """``p`` with its key as it is now (this process's cache, invalidated on every key change here,
        else the store): a paid start reads its limits from this, not from the copy the request
        authenticated with before its body was read and screened. 401 if the key was revoked or deleted
        meanwhile."""
        if p.key is None:
            return p
        record = await self._lookup(p.key.key_hash)
        if record is None:
            raise AuthenticationError("This API key was deleted.", code="invalid_api_key")
        if record.revoked:
            raise revoked_key()
        return p if record is p.key else Principal(key=record, is_master=False)

    def cached(self, secret: str) -> Principal | None:
        """The principal for ``secret`` if it is the master key or a live key this process holds in its
        cache now, without reading the store; None otherwise (``authenticate`` then decides)."""
        digest = hash_secret(secret)
        if self._master_hash is not None and hmac.compare_digest(digest, self._master_hash):
            return Principal(key=None, is_master=True)
        hit = self._cache.get(digest)
        if hit is None or hit[1] <= self._clock() or hit[0].revoked:
            return None
        return Principal(key=hit[0], is_master=False)

    async def _lookup(self, digest: str) -> KeyRecord | None:
        now = self._clock()
        hit = self._cache.get(digest)
        if hit is not None and hit[1] > now:
            return hit[0]
        record = await self._keys.get_by_hash(digest)
        if record is not None and self.ttl > 0:
            if len(self._cache) >= self.max_entries:
                self._cache.clear()
            self._cache[digest] = (record, now + self.ttl)
        return record

    def invalidate(self) -> None:
        """Forget every cached key (after a key was created, updated, revoked or deleted)."""
        self._cache.clear()
