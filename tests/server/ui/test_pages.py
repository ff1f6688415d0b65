"""The dashboard's pages and files: served from the package with a strict Content-Security-Policy,
no inline script or style, and no reference to another origin; the admin route is master-only."""

from __future__ import annotations

import re
from importlib import resources

import pytest
from tests.server.conftest import MASTER, Served, auth

PAGES = [
    "/ui/",
    "/ui/signin",
    "/ui/playground",
    "/ui/videos/video_0123",
    "/ui/admin/keys",
    "/ui/admin/spend",
    "/ui/admin/deployments",
]


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_is_a_shell_under_a_strict_policy(served: Served, path: str) -> None:
    reply = await served.client.get(path)
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    policy = reply.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    assert "unsafe" not in policy
    assert reply.headers["x-frame-options"] == "DENY"
    assert reply.headers["referrer-policy"] == "no-referrer"
    assert reply.headers["cache-control"] == "no-store"
    assert "set-cookie" not in reply.headers
    html = reply.text
    assert re.findall(r"<script[^>]*>\s*[^<\s]", html) == []  # every script is a src= file, empty inside
    assert " style=" not in html
    assert "<style" not in html
    assert re.findall(r"(?:src|href)=\"(?!/ui/|#)", html) == []  # nothing from another origin
    assert '<main id="main"' in html
    assert 'lang="en"' in html


async def test_the_video_id_is_escaped_into_the_page(served: Served) -> None:
    reply = await served.client.get('/ui/videos/a"><b onclick=x>')
    assert reply.status_code == 200
    assert 'data-video-id="a&#34;&gt;&lt;b onclick=x&gt;"' in reply.text


async def test_ui_redirects_to_the_gallery(served: Served) -> None:
    reply = await served.client.get("/ui")
    assert (reply.status_code, reply.headers["location"]) == (308, "/ui/")


def _static_files() -> list[str]:
    folder = resources.files("vidgate.server.ui") / "static"
    return sorted(entry.name for entry in folder.iterdir())


@pytest.mark.parametrize("name", _static_files())
async def test_static_files_are_served_and_fetch_nothing_elsewhere(served: Served, name: str) -> None:
    reply = await served.client.get(f"/ui/static/{name}")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/javascript" if name.endswith(".js") else "text/css")
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert re.findall(r"https?://(?!www\.w3\.org/2000/svg)", reply.text) == []
    assert "innerHTML" not in reply.text
    assert "eval(" not in reply.text
    assert "localStorage" not in reply.text
    assert "document.cookie" not in reply.text


@pytest.mark.parametrize("name", ["nope.js", "app.py", "..%2Fpages.py", "templates"])
async def test_other_files_are_not_served(served: Served, name: str) -> None:
    reply = await served.client.get(f"/ui/static/{name}")
    assert reply.status_code == 404


async def test_deployments_are_for_the_master_key(served: Served) -> None:
    secret = await served.new_key()
    refused = await served.client.get("/admin/deployments", headers=auth(secret))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "master_key_required")
    reply = await served.client.get("/admin/deployments", headers=auth(MASTER))
    assert reply.status_code == 200
    rows = reply.json()["data"]
    assert [(r["model_name"], r["provider"], r["model"], r["healthy"]) for r in rows] == [
        ("local-1", "local", "local-1", True),
        ("local-free", "local", "local-1", True),
    ]
    assert rows[0]["warning"] is None
    assert rows[0]["lifecycle"] == "active"
