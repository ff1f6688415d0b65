"""The dashboard's pages and static files under ``/ui``, served by the gateway process.

Pages are server-rendered shells (Jinja2, autoescaped); the data in them comes from the gateway's
public API, fetched by the page's script with the key the user signed in with. The key lives in the
tab's ``sessionStorage`` only: the server never sees it on a page request, never sets a cookie and
never puts it in a URL, so a page is the same for every visitor and holds no data. Scripts and styles
are files of this package (no build step, nothing fetched from elsewhere), and every response carries
a Content-Security-Policy that allows nothing else: no inline script or style, no other origin.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from vidgate.errors import NotFoundError
from vidgate.server.endpoint import Endpoint, Reply
from vidgate.server.state import check_params

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}
_STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
_STATIC = resources.files("vidgate.server.ui") / "static"

_env = Environment(
    loader=PackageLoader("vidgate.server.ui", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

# page name -> (template, title, scripts after common.js)
PAGES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "signin": ("signin.html", "Sign in", ("signin.js",)),
    "gallery": ("gallery.html", "Videos", ("gallery.js",)),
    "video": ("video.html", "Video", ("capabilities.js", "video.js")),
    "playground": ("playground.html", "Playground", ("capabilities.js", "playground.js")),
    "keys": ("keys.html", "Keys", ("keys.js",)),
    "spend": ("spend.html", "Spend", ("chart.js", "spend.js")),
    "deployments": ("deployments.html", "Deployments", ("deployments.js",)),
}


def render(page: str, **context: Any) -> HTMLResponse:
    template, title, scripts = PAGES[page]
    html = _env.get_template(template).render(page=page, title=title, scripts=scripts, **context)
    headers = {**SECURITY_HEADERS, "cache-control": "no-store"}
    return HTMLResponse(html, headers=headers)


def page(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return render(name)

    endpoint.__name__ = f"ui_{name}"
    return endpoint


async def video_page(request: Request) -> Response:
    check_params(request)
    return render("video", video_id=request.path_params["video_id"])


async def home(request: Request) -> Response:
    return RedirectResponse("/ui/", status_code=308)


async def static(request: Request) -> Response:
    name: str = request.path_params["name"]
    suffix = name[name.rfind(".") :] if "." in name else ""
    resource = _STATIC / name
    if "/" in name or suffix not in _STATIC_TYPES or not resource.is_file():
        raise NotFoundError(f"No dashboard file '{name[:60]}'.", param="name", code="not_found")
    headers = {**SECURITY_HEADERS, "cache-control": "no-cache"}
    return Response(resource.read_bytes(), media_type=_STATIC_TYPES[suffix], headers=headers)


HTML = Reply(
    "The page (HTML; its script calls the API with the key kept in sessionStorage).", media_type="text/html"
)


def endpoints() -> list[Endpoint]:
    tag = "Dashboard"
    static_reply = Reply(
        "A script or stylesheet of the dashboard.",
        media_type="text/javascript",
        alternatives=(("text/css", None),),
    )
    pages = [
        ("/ui/", page("gallery"), "The gallery"),
        ("/ui/signin", page("signin"), "Sign in"),
        ("/ui/playground", page("playground"), "The playground"),
        ("/ui/videos/{video_id}", video_page, "A video's page"),
        ("/ui/admin/keys", page("keys"), "Keys (master key)"),
        ("/ui/admin/spend", page("spend"), "Spend (master key)"),
        ("/ui/admin/deployments", page("deployments"), "Deployments (master key)"),
    ]
    return [
        Endpoint(
            "GET", "/ui", home, "The dashboard", tag, {308: Reply("To /ui/.", media_type="")}, auth="none"
        ),
        *(
            Endpoint("GET", path, handler, summary, tag, {200: HTML}, auth="none")
            for path, handler, summary in pages
        ),
        Endpoint(
            "GET", "/ui/static/{name}", static, "A dashboard file", tag, {200: static_reply}, auth="none"
        ),
    ]
