"""``/docs``: the OpenAPI document rendered as one static HTML page, on the server.

No script, no external stylesheet, font or image: the page is plain HTML with one inline style block
whose hash is the only thing its Content-Security-Policy allows (``default-src 'none'``), so the page
makes no request at all and nothing injected into it (a description, a schema title) could run.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from html import escape
from typing import Any

_STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "h2{border-bottom:1px solid #ccc;margin-top:2.5rem}"
    ".op{border:1px solid #ddd;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}"
    ".m{display:inline-block;min-width:4.5rem;font-weight:700;font-family:monospace}"
    ".get{color:#1769aa}.post{color:#2e7d32}.delete{color:#c62828}.put,.patch{color:#8a6d00}"
    "code,pre{font-family:ui-monospace,monospace;font-size:13px}"
    "pre{background:#f6f8fa;padding:.75rem;overflow:auto;border-radius:4px}"
    "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}"
)
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()

CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src '{STYLE_HASH}'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS: Mapping[str, str] = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-resource-policy": "same-origin",
}


def render(doc: Mapping[str, Any]) -> str:
    info = doc["info"]
    parts = [
        "<!doctype html><html lang=en><meta charset=utf-8>",
        '<meta name=viewport content="width=device-width,initial-scale=1">',
        f"<title>{escape(info['title'])} API</title><style>{_STYLE}</style>",
        f"<h1>{escape(info['title'])} <small>{escape(info['version'])}</small></h1>",
        f"<p>{escape(info['description'])}",
        '<p>The machine-readable document: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).',
    ]
    by_tag: dict[str, list[tuple[str, str, Mapping[str, Any]]]] = {}
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            by_tag.setdefault(op["tags"][0], []).append((path, method, op))
    parts.append("<nav><ul>")
    parts += [f'<li><a href="#tag-{_slug(tag)}">{escape(tag)}</a>' for tag in by_tag]
    parts.append('<li><a href="#schemas">Schemas</a></ul></nav>')
    for tag, ops in by_tag.items():
        parts.append(f'<h2 id="tag-{_slug(tag)}">{escape(tag)}</h2>')
        parts += [_operation(path, method, op) for path, method, op in ops]
    parts.append('<h2 id="schemas">Schemas</h2>')
    for name, schema in doc["components"]["schemas"].items():
        shown = json.dumps(schema, indent=2, ensure_ascii=False)
        parts.append(f'<h3 id="schema-{_slug(name)}">{escape(name)}</h3><pre>{_linked(shown)}</pre>')
    return "".join(parts)


def _operation(path: str, method: str, op: Mapping[str, Any]) -> str:
    auth = ", ".join(name for option in op.get("security", []) for name in option) or "none"
    out = [
        f'<div class=op id="{escape(op["operationId"])}">',
        f"<p><span class='m {escape(method)}'>{escape(method.upper())}</span> <code>{escape(path)}</code>",
        f" — {escape(op['summary'])}<br><small>auth: {escape(auth)}</small>",
    ]
    if op.get("description"):
        out.append(f"<p>{escape(op['description'])}")
    params = op.get("parameters", [])
    if params:
        out.append("<table><tr><th>parameter<th>in<th>required<th>schema<th>description")
        for p in params:
            schema = _linked(escape(json.dumps(p["schema"], ensure_ascii=False)), escaped=True)
            out.append(
                f"<tr><td><code>{escape(p['name'])}</code><td>{escape(p['in'])}"
                f"<td>{'yes' if p['required'] else 'no'}<td><code>{schema}</code>"
                f"<td>{escape(p.get('description', ''))}"
            )
        out.append("</table>")
    body = op.get("requestBody")
    if body:
        out.append("<p>Body: " + _media(body["content"]))
    out.append("<p>Responses:</p><ul>")
    for status, reply in op["responses"].items():
        media = _media(reply["content"]) if "content" in reply else ""
        out.append(f"<li><b>{escape(status)}</b> {escape(reply['description'])} {media}")
    out.append("</ul></div>")
    return "".join(out)


def _media(content: Mapping[str, Any]) -> str:
    items = []
    for media, spec in content.items():
        ref = spec["schema"].get("$ref", "")
        name = ref.rpartition("/")[2]
        target = f' <a href="#schema-{_slug(name)}">{escape(name)}</a>' if name else ""
        items.append(f"<code>{escape(media)}</code>{target}")
    return "; ".join(items)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)


def _linked(text: str, *, escaped: bool = False) -> str:
    """Schema JSON with each ``$ref`` a link to the schema it names."""
    shown = text if escaped else escape(text)
    marker = escape('"#/components/schemas/')
    out, rest = [], shown
    while marker in rest:
        head, _, tail = rest.partition(marker)
        name, quote, after = tail.partition(escape('"'))
        out.append(f'{head}&quot;<a href="#schema-{_slug(name)}">#/components/schemas/{name}</a>{quote}')
        rest = after
    return "".join(out) + rest
