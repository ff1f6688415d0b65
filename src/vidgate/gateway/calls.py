"""Provider calls for a deployment: one place that turns (deployment, operation) into a driven flow.

Credentials always come from the deployment object (pinned at create); the provider's credential hook
(``ProviderSpec.authorize``: an OAuth refresh, a JWT) runs here before every flow, because adapters do no
I/O, so a long poll never uses an expired token.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TypeVar, cast

from vidgate.errors import APIError, AuthenticationError, PermissionDeniedError
from vidgate.gateway.routing import UPSTREAM_AUTH_FAILED, Deployment
from vidgate.providers.base import (
    CallbackAnswer,
    CallbackDelivery,
    CallbackReader,
    Credentials,
    Download,
    Flow,
    Provider,
    ProviderJob,
    ProviderPage,
)
from vidgate.providers.registry import get_provider, get_spec
from vidgate.transport import AsyncByteStream, AsyncRunner
from vidgate.types import VideoRequest

T = TypeVar("T")


class ProviderCalls:
    """Drives provider flows through an AsyncRunner. Subclass or wrap it to observe calls in tests."""

    def __init__(self, runner: AsyncRunner, providers: Mapping[str, Provider] | None = None) -> None:
        """``providers`` overrides adapters by name (tests pass a LocalProvider with their own clock)."""
        self.runner = runner
        self.providers = dict(providers or {})

    def provider(self, dep: Deployment) -> Provider:
        found = self.providers.get(dep.provider)
        return found if found is not None else get_provider(dep.provider)

    async def credentials(self, dep: Deployment) -> Credentials:
        hook = get_spec(dep.provider).authorize
        if hook is None:
            return dep.credentials
        try:
            return await hook(dep.credentials)
        except AuthenticationError as exc:
            raise upstream_auth_failed(dep, exc) from exc

    async def _run(self, dep: Deployment, flow: Flow[T]) -> T:
        try:
            if get_spec(dep.provider).blocking:
                return await asyncio.to_thread(_at_once, flow)
            return await self.runner.run(flow, self.provider(dep).error_for, read_timeout=dep.timeout)
        except (AuthenticationError, PermissionDeniedError) as exc:
            raise upstream_auth_failed(dep, exc) from exc

    async def create(self, dep: Deployment, req: VideoRequest) -> ProviderJob:
        """Start a job (``dep.credentials.provider_callback``, when set, is registered with it)."""
        creds = await self.credentials(dep)
        return await self._run(dep, self.provider(dep).create(req, creds))

    async def parse_callback(
        self, dep: Deployment, delivery: CallbackDelivery
    ) -> ProviderJob | CallbackAnswer:
        """Verify and read a provider's callback with the deployment's adapter (``InvalidCallback``
        when it is not verifiably the provider's)."""
        reader = cast(CallbackReader, self.provider(dep))
        creds = await self.credentials(dep)
        return await self.runner.run(reader.parse_callback(delivery, creds), self.provider(dep).error_for)

    async def retrieve(self, dep: Deployment, native_id: str) -> ProviderJob:
        creds = await self.credentials(dep)
        return await self._run(dep, self.provider(dep).retrieve(native_id, creds))

    async def remix(self, dep: Deployment, native_id: str, prompt: str) -> ProviderJob:
        creds = await self.credentials(dep)
        return await self._run(dep, self.provider(dep).remix(native_id, prompt, creds))

    async def delete(self, dep: Deployment, native_id: str) -> bool:
        creds = await self.credentials(dep)
        return await self._run(dep, self.provider(dep).delete(native_id, creds))

    async def list_page(self, dep: Deployment, *, after: str | None, limit: int) -> ProviderPage | None:
        """One page of the deployment's jobs, newest first; None when the provider cannot list."""
        if not dep.spec.has("list"):
            return None
        provider = self.provider(dep)
        creds = await self.credentials(dep)
        return await self._run(dep, provider.list(creds, after=after, limit=limit, order="desc"))

    def download_flow(
        self, dep: Deployment, native_id: str, variant: str, creds: Credentials
    ) -> Flow[Download]:
        """Where the bytes are: the adapter's ``download`` (subclasses pick e.g. another sample)."""
        return self.provider(dep).download(native_id, variant, creds)

    @asynccontextmanager
    async def open(
        self, dep: Deployment, native_id: str, variant: str, *, headers: dict[str, str] | None = None
    ) -> AsyncIterator[AsyncByteStream]:
        """Stream one variant of a finished video from the provider (bounded memory)."""
        provider = self.provider(dep)
        creds = await self.credentials(dep)
        download = await self._run(dep, self.download_flow(dep, native_id, variant, creds))
        try:
            async with self.runner.open(
                download, provider.error_for, headers=headers, read_timeout=dep.timeout
            ) as stream:
                yield stream
        except (AuthenticationError, PermissionDeniedError) as exc:
            raise upstream_auth_failed(dep, exc) from exc


def upstream_auth_failed(dep: Deployment, exc: APIError) -> APIError:
    """The provider refused the gateway's own credentials: a gateway fault (502), not the caller's, so
    a client never sees a 401 for a key that is fine (and creates may fall back to another deployment)."""
    return APIError(
        f"The provider refused the gateway's credentials for deployment '{dep.id}' ({dep.model_name}): "
        f"{exc.message}",
        status_code=502,
        code=UPSTREAM_AUTH_FAILED,
        type="upstream_error",
        provider=dep.provider,
    )


def _at_once(flow: Flow[T]) -> T:
    """A blocking provider's flow (``ProviderSpec.blocking``) run to its end; it makes no HTTP call."""
    try:
        call = next(flow)
    except StopIteration as stop:
        return cast(T, stop.value)
    flow.close()
    raise RuntimeError(f"a blocking provider's flow asked for {call.method} {call.url}")
