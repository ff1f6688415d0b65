"""A real google-auth service-account flow without Google: a key file made in the test whose
``token_uri`` points at a small OAuth token endpoint on loopback, which records each grant."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.live import live_server

CLIENT_EMAIL = "vidgate-test@vidgate-test.iam.gserviceaccount.com"


@dataclass
class TokenServer:
    url: str
    grants: list[dict[str, str]] = field(default_factory=list)  # the form of every token request
    issued: list[str] = field(default_factory=list)  # the access tokens answered, in order

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def claims(self, index: int = 0) -> dict[str, Any]:
        """The claims of the JWT assertion of grant ``index`` (what google-auth signed)."""
        payload = self.grants[index]["assertion"].split(".")[1]
        decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return decoded


@contextmanager
def token_server() -> Iterator[TokenServer]:
    state = TokenServer(url="")

    async def token(request: Request) -> JSONResponse:
        form = await request.form()
        state.grants.append({k: str(v) for k, v in form.items()})
        issued = f"ya29.test-{secrets.token_hex(8)}"
        state.issued.append(issued)
        return JSONResponse({"access_token": issued, "expires_in": 3600, "token_type": "Bearer"})

    app = Starlette(routes=[Route("/token", token, methods=["POST"])])
    with live_server(app) as url:
        state.url = url
        yield state


def service_account_file(directory: Path, token_uri: str) -> Path:
    """A service-account key file (a fresh RSA key) that sends google-auth to ``token_uri``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "vidgate-test",
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": CLIENT_EMAIL,
        "client_id": "1234567890",
        "token_uri": token_uri,
    }
    path = directory / "service-account.json"
    path.write_text(json.dumps(info), encoding="utf-8")
    return path
