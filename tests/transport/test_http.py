"""Request building: a call with a files list is sent as multipart/form-data, even with no file."""

from __future__ import annotations

import httpx

from vidgate.providers.base import HttpCall
from vidgate.transport.http import request_kwargs


def content_type(call: HttpCall) -> str:
    request = httpx.Request(call.method, call.url, **request_kwargs(call))
    return request.headers["content-type"].split(";")[0]


def test_text_fields_with_an_empty_files_list_are_a_multipart_form() -> None:
    call = HttpCall("POST", "http://h/v1/videos", data={"prompt": "a cat", "seconds": "4"}, files=[])
    request = httpx.Request(call.method, call.url, **request_kwargs(call))
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    body = request.read()
    assert b'name="prompt"\r\n\r\na cat' in body
    assert b"filename" not in body


def test_without_files_text_fields_stay_urlencoded_and_json_stays_json() -> None:
    assert content_type(HttpCall("POST", "http://h", data={"a": "1"})) == "application/x-www-form-urlencoded"
    assert content_type(HttpCall("POST", "http://h", json={"a": 1})) == "application/json"


def test_a_file_part_and_text_fields() -> None:
    call = HttpCall("POST", "http://h", data={"a": "1"}, files=[("f", ("x.png", b"\x89PNG", "image/png"))])
    request = httpx.Request(call.method, call.url, **request_kwargs(call))
    body = request.read()
    assert b'name="a"\r\n\r\n1' in body
    assert b'filename="x.png"' in body
