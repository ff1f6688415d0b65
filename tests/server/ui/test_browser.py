"""The dashboard in headless chromium against a live gateway on the local provider: sign in, make a
video in the playground, watch it complete in the gallery, play and seek it, remix it, delete it; a
second key sees none of it; the admin creates and blocks a key. Screenshots go to artifacts/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.server.conftest import MASTER, auth
from tests.server.ui.conftest import LiveGateway

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]  # several renders per test on a shared machine

WAIT_MS = 60_000  # an upper bound for a render on a loaded machine, never a performance claim


@pytest.fixture
def page(browser: Any, live_gateway: LiveGateway) -> Iterator[Any]:
    context = browser.new_context(base_url=live_gateway.base_url, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    context.close()
    assert errors == []  # nothing the policy had to block


def wait_for_metadata(page: Any) -> None:
    """Until the player knows its duration. ``evaluate`` of a function runs under the page's CSP
    (``script-src 'self'``); ``wait_for_function`` with an expression failed there whenever it had to
    poll, because its polling evaluates the string, which the CSP forbids."""
    page.evaluate(
        """() => new Promise((done) => {
             const v = document.getElementById('player');
             if (v.readyState >= 1) { done(); return; }
             v.addEventListener('loadedmetadata', () => done(), { once: true });
           })"""
    )


def wait_done(gateway: LiveGateway, secret: str, video_id: str) -> None:
    with gateway.api() as client:
        for _ in range(600):
            video = client.get(f"/v1/videos/{video_id}", headers=auth(secret)).json()
            if video["status"] in ("completed", "failed"):
                assert video["status"] == "completed", video
                return
            time.sleep(0.1)
    raise AssertionError(f"{video_id} did not finish")


def sign_in(page: Any, secret: str) -> None:
    page.goto("/ui/")
    page.wait_for_url("**/ui/signin")
    page.get_by_label("API key").fill(secret)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/ui/")


def test_make_watch_play_seek_remix_and_delete(
    page: Any, live_gateway: LiveGateway, screenshots: Path
) -> None:
    secret = live_gateway.new_key(key_alias="alice")
    sign_in(page, secret)
    assert page.locator("#who").text_content() == "Key alice"
    assert page.evaluate("Object.keys(sessionStorage)") == ["vidgate.session"]
    assert page.context.cookies() == []
    assert secret not in page.url

    page.goto("/ui/playground")
    page.get_by_label("Model").select_option("local-free")
    page.get_by_label("Size").select_option("320x180")
    page.get_by_label("Seconds").select_option("2")
    assert page.locator("#price").text_content() == "Price: $0.00 for this video."
    page.get_by_label("Model").select_option("local-1")  # priced by its deployment at $0.10/s
    page.get_by_label("Prompt").fill("a lighthouse at dusk")
    page.get_by_label("Size").select_option("320x180")
    page.get_by_label("Seconds").select_option("4")
    assert page.locator("#price").text_content() == "Price: $0.40 for this video."
    page.get_by_label("Seconds").select_option("2")
    assert page.locator("#price").text_content() == "Price: $0.20 for this video."
    assert "remix" in page.locator("#features").text_content()
    page.screenshot(path=screenshots / "playground.png", full_page=True)
    page.get_by_role("button", name="Generate").click()
    page.wait_for_url("**/ui/videos/video_*")
    video_id = page.url.rsplit("/", 1)[1]

    page.goto("/ui/")
    card = page.locator(f'li.card[data-id="{video_id}"]')
    card.wait_for()
    assert "a lighthouse at dusk" in card.text_content()
    page.locator(f'li.card[data-id="{video_id}"][data-status="completed"] img.thumb').wait_for()
    assert "local-1 · 320x180 · 2 s · $0.20" in card.text_content()
    page.screenshot(path=screenshots / "gallery.png", full_page=True)

    card.get_by_role("link").click()
    page.wait_for_url(f"**/ui/videos/{video_id}")
    player = page.locator("video#player")
    player.wait_for()
    wait_for_metadata(page)
    assert page.evaluate("document.getElementById('player').duration") == pytest.approx(2.0, abs=0.1)
    seeked = page.evaluate(
        """() => new Promise((done) => {
             const v = document.getElementById('player');
             v.muted = true;
             v.addEventListener('seeked', () => done(v.currentTime), { once: true });
             v.play().then(() => { v.currentTime = 1.25; });
           })"""
    )
    assert seeked == pytest.approx(1.25, abs=0.1)
    ranged = page.evaluate(
        """async () => {
             const src = document.getElementById('player').src;
             const r = await fetch(src, { headers: { Range: 'bytes=0-99' } });
             return [r.status, r.headers.get('content-range'), (await r.arrayBuffer()).byteLength];
           }"""
    )
    assert ranged[0] == 206
    assert ranged[1].startswith("bytes 0-99/")
    assert ranged[2] == 100
    assert secret not in page.locator("video#player").get_attribute("src")
    page.locator("#sprite-box img").wait_for()
    assert page.locator("#download").get_attribute("download") == f"{video_id}.mp4"
    page.screenshot(path=screenshots / "video.png", full_page=True)

    page.get_by_label("Extension prompt").fill("and the lamp lights up")
    page.get_by_label("Seconds to add").select_option("1")
    page.get_by_role("button", name="Extend").click()
    page.wait_for_url(lambda url: "/ui/videos/video_" in url and video_id not in url)
    page.locator("video#player").wait_for()
    wait_for_metadata(page)
    assert page.evaluate("document.getElementById('player').duration") == pytest.approx(3.0, abs=0.1)
    page.go_back()
    page.wait_for_url(f"**/ui/videos/{video_id}")

    page.get_by_label("Remix prompt").fill("the same lighthouse in snow")
    page.get_by_role("button", name="Remix").click()
    page.wait_for_url(lambda url: "/ui/videos/video_" in url and video_id not in url)
    remix_id = page.url.rsplit("/", 1)[1]
    page.locator("video#player").wait_for()
    assert video_id in page.locator("#facts").text_content()

    page.get_by_role("button", name="Delete video").click()
    page.wait_for_url("**/ui/")
    page.locator(f'li.card[data-id="{video_id}"]').wait_for()
    assert page.locator(f'li.card[data-id="{remix_id}"]').count() == 0
    with live_gateway.api() as client:
        gone = client.get(f"/v1/videos/{remix_id}", headers=auth(secret))
    assert gone.status_code == 404


def test_a_second_key_sees_none_of_the_first_keys_videos(page: Any, live_gateway: LiveGateway) -> None:
    first = live_gateway.new_key(key_alias="first")
    with live_gateway.api() as client:
        body = {"model": "local-1", "prompt": "only mine", "seconds": "1", "size": "320x180"}
        created = client.post("/v1/videos", json=body, headers=auth(first))
    assert created.status_code == 200
    sign_in(page, live_gateway.new_key(key_alias="second"))
    page.locator("#empty").wait_for()
    assert page.locator("li.card").count() == 0
    page.goto(f"/ui/videos/{created.json()['id']}")
    page.get_by_text("No such video (or it was deleted).").wait_for()
    assert page.locator("[data-admin]:visible").count() == 0
    page.goto("/ui/admin/keys")
    page.wait_for_url("**/ui/")  # not an admin: sent back to the gallery


def test_the_admin_creates_and_blocks_a_key(page: Any, live_gateway: LiveGateway, screenshots: Path) -> None:
    spender = live_gateway.new_key(key_alias="spender")
    with live_gateway.api() as client:
        body = {"model": "local-1", "prompt": "a charged video", "seconds": "1", "size": "320x180"}
        charged = client.post("/v1/videos", json=body, headers=auth(spender))
    assert charged.status_code == 200
    wait_done(live_gateway, spender, charged.json()["id"])
    sign_in(page, MASTER)
    assert page.locator("#who").text_content() == "Master key"

    page.get_by_role("link", name="Keys").click()
    page.wait_for_url("**/ui/admin/keys")
    form = page.locator("#new-key")
    form.get_by_label("Alias").fill("carol")
    form.get_by_label("Requests per minute").fill("30")
    page.get_by_role("button", name="Create key").click()
    page.locator("#secret-box").wait_for()
    secret = page.locator("#secret").text_content()
    assert secret.startswith("sk-")
    row = page.locator("tr", has=page.get_by_role("rowheader", name="carol"))
    row.wait_for()
    assert "30" in row.text_content()
    assert "active" in row.text_content()
    page.screenshot(path=screenshots / "keys.png", full_page=True)
    row.get_by_role("button", name="Block carol").click()
    page.locator("tr", has=page.get_by_role("rowheader", name="carol")).get_by_text("blocked").wait_for()
    with live_gateway.api() as client:
        refused = client.get("/v1/videos", headers=auth(secret))
    assert refused.status_code == 401

    row.get_by_role("button", name="Edit limits of carol").click()
    page.locator("#edit-key").get_by_label("Requests per minute (empty: none)").fill("45")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Limits saved.").wait_for()
    with live_gateway.api() as client:
        info = client.get("/key/info", params={"key": secret}, headers=auth(MASTER)).json()["info"]
    assert (info["rpm_limit"], info["blocked"], info["key_alias"]) == (45, True, "carol")
    row.get_by_role("button", name="Delete carol").click()
    page.get_by_text("Key deleted.").wait_for()
    page.get_by_role("rowheader", name="carol").wait_for(state="detached")

    page.get_by_role("link", name="Spend").click()
    page.wait_for_url("**/ui/admin/spend")
    page.locator("#by-key svg rect").first.wait_for()
    assert "spender" in page.locator("#by-key .legend").text_content()
    assert "local-1" in page.locator("#by-model .legend").text_content()
    page.screenshot(path=screenshots / "spend.png", full_page=True)

    page.get_by_role("link", name="Deployments").click()
    page.wait_for_url("**/ui/admin/deployments")
    page.get_by_role("rowheader", name="local-free").wait_for()
    assert "healthy" in page.locator("#deployments tbody").text_content()
    page.screenshot(path=screenshots / "deployments.png", full_page=True)


def test_the_keys_page_lists_keys_past_one_page(page: Any, live_gateway: LiveGateway) -> None:
    """GET /key/list answers a page at a time (at most 100 keys): the table shows every key."""
    with live_gateway.api() as client:
        for i in range(101):
            made = client.post("/key/generate", json={"key_alias": f"bulk-{i:03}"}, headers=auth(MASTER))
            assert made.status_code == 200
    sign_in(page, MASTER)
    page.goto("/ui/admin/keys")
    page.get_by_role("rowheader", name="bulk-000", exact=True).wait_for()  # the oldest: on page two
    assert page.locator("#keys tbody tr", has_text="bulk-").count() == 101


def test_pages_read_on_a_phone(browser: Any, live_gateway: LiveGateway, screenshots: Path) -> None:
    secret = live_gateway.new_key(key_alias="phone")
    with live_gateway.api() as client:
        body = {"model": "local-1", "prompt": "a phone-sized clip", "seconds": "1", "size": "320x180"}
        video_id = client.post("/v1/videos", json=body, headers=auth(secret)).json()["id"]
    wait_done(live_gateway, secret, video_id)
    context = browser.new_context(base_url=live_gateway.base_url, viewport={"width": 375, "height": 740})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    sign_in(page, secret)
    page.locator(f'li.card[data-id="{video_id}"] img.thumb').wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling
    page.screenshot(path=screenshots / "gallery-phone.png", full_page=True)
    page.goto(f"/ui/videos/{video_id}")
    page.locator("video#player").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=screenshots / "video-phone.png", full_page=True)
    context.close()


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter((c) => c.getClientRects().length && !(c.labels && c.labels.length)
    && !c.getAttribute('aria-label') && !(c.tagName === 'BUTTON' && c.textContent.trim()))
  .map((c) => c.outerHTML)"""


def test_keyboard_sign_in_and_every_control_is_labelled(page: Any, live_gateway: LiveGateway) -> None:
    page.goto("/ui/signin")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "key"
    page.keyboard.type(MASTER)
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/")
    for path in ("/ui/", "/ui/playground", "/ui/admin/keys", "/ui/admin/spend", "/ui/admin/deployments"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate(UNLABELLED) == [], path
        assert page.locator("header nav[aria-label='Main']").count() == 1
        assert page.locator("main h1").count() == 1


PRICE_OF = """([entry, size, seconds]) => {
  const model = Capabilities.normalise(entry);
  return [Capabilities.price(model, size, seconds), Capabilities.secondsFor(model, size)];
}"""


def test_the_playground_prices_the_capabilities_shape_exactly(page: Any, live_gateway: LiveGateway) -> None:
    """GET /v1/videos/models's entry shape (sizes with resolution and durations, decimal strings)."""
    sign_in(page, live_gateway.new_key())
    page.goto("/ui/playground")
    entry = {
        "id": "veo",
        "sizes": [
            {"size": "1280x720", "resolution": "720p", "aspect_ratio": "16:9", "durations": [4, 6, 8]},
            {"size": "1920x1080", "resolution": "1080p", "aspect_ratio": "16:9", "durations": [8]},
        ],
        "supported_durations": [4, 6, 8],
        "features": ["remix"],
        "pricing": {"currency": "USD", "per_second": {"720p": "0.15", "1080p": "0.4"}, "per_video": "0.01"},
    }
    assert page.evaluate(PRICE_OF, [entry, "1280x720", "6"]) == [910_000, [4, 6, 8]]  # 6 x $0.15 + $0.01
    assert page.evaluate(PRICE_OF, [entry, "1920x1080", "8"]) == [3_210_000, [8]]
    assert page.evaluate(PRICE_OF, [entry, "640x360", "4"])[0] is None  # no such size: no price
    unpriced = {**entry, "pricing": {"per_second": {}}}
    assert page.evaluate(PRICE_OF, [unpriced, "1280x720", "4"])[0] is None
    assert page.evaluate("Capabilities.micros('0.0000125')") == 12
    assert page.evaluate("Capabilities.micros('1E-1')") is None


def test_the_gallery_follows_a_new_video_live_and_filters(page: Any, live_gateway: LiveGateway) -> None:
    secret = live_gateway.new_key(key_alias="watcher")
    sign_in(page, secret)
    page.locator("#empty").wait_for()
    with live_gateway.api() as client:
        body = {"model": "local-free", "prompt": "made elsewhere", "seconds": "1", "size": "320x180"}
        video_id = client.post("/v1/videos", json=body, headers=auth(secret)).json()["id"]
    # no reload: the open gallery picks the video up and follows it to completed
    page.locator(f'li.card[data-id="{video_id}"]').wait_for()
    page.locator(f'li.card[data-id="{video_id}"][data-status="completed"] img.thumb').wait_for()
    page.get_by_label("Status").select_option("failed")
    assert page.locator("li.card").count() == 0
    page.get_by_label("Status").select_option("completed")
    page.get_by_label("Model").select_option("local-free")
    assert page.locator("li.card").count() == 1
