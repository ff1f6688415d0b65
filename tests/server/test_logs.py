from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson
import pytest
from tests.server.conftest import MASTER, gateway_config
from tests.support.live import live_server, raw_exchange

from vidgate.errors import Timeout
from vidgate.server.app import create_app
from vidgate.server.logs import (
    QueryRedactingFilter,
    access_log,
    install_query_redaction,
    lean_log_records,
    new_request_id,
    redact,
    summarize_body,
    write_access_line,
)
from vidgate.server.logstream import LoopBatchingStreamHandler
from vidgate.server.redaction import redact_query
from vidgate.store.memory import MemoryStores


def test_redact_hides_secrets_data_urls_and_base64_but_keeps_the_rest() -> None:
    blob = "QUJD" * 100
    body = {
        "key": "sk-secret-123456",
        "key_alias": "team-a",
        "metadata": {"api_key": "abc", "note": "hello"},
        "input_reference": {"image_url": "data:image/png;base64,AAAA"},
        "images": [blob],
        "prompt": "a cat",
        "mentions": "sk-looks-like-a-key-1234",
    }
    out = redact(body)
    assert out["key"] == "[redacted]"
    assert out["key_alias"] == "team-a"
    assert out["metadata"] == {"api_key": "[redacted]", "note": "hello"}
    assert out["input_reference"]["image_url"].startswith("[data URL")
    assert out["images"][0] == f"[base64, {len(blob)} chars redacted]"
    assert out["prompt"] == "a cat"
    assert out["mentions"] == "[redacted]"


def test_multipart_bodies_are_logged_as_fields_with_files_summarized() -> None:
    boundary = "XyZ"
    raw = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="prompt"\r\n\r\na cat\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="input_reference"; filename="f.png"\r\n'
        f"Content-Type: image/png\r\n\r\n\x89PNGDATA\r\n--{boundary}--\r\n"
    ).encode("latin-1")
    out = summarize_body(raw, f"multipart/form-data; boundary={boundary}", len(raw))
    assert out == {"prompt": "a cat", "input_reference": "[file 'f.png', 8 bytes]"}


def test_large_or_binary_bodies_are_described_not_logged() -> None:
    assert summarize_body(b"x" * 10, "application/json", 10**6).startswith("[1000000 bytes, not logged")
    assert summarize_body(b"\x00\x01", "video/mp4", 2) == "[2 bytes of video/mp4]"
    assert summarize_body(b"", "application/json", 0) is None


def test_redact_query_hides_secret_parameters_and_keeps_the_rest() -> None:
    assert redact_query("") == ""
    assert redact_query("key=AIzaSecret&alt=media") == "key=[redacted]&alt=media"
    assert redact_query("alt=media&API_KEY=x&access_token=y&x-goog-api-key=z") == (
        "alt=media&API_KEY=[redacted]&access_token=[redacted]&x-goog-api-key=[redacted]"
    )
    assert redact_query("q=sk-a-vidgate-key-123&limit=2&flag") == "q=[redacted]&limit=2&flag"
    assert redact_query("X-Goog-Signature=abc&keyword=fox") == "X-Goog-Signature=[redacted]&keyword=fox"
    assert redact_query("%6Bey=encoded-name") == "%6Bey=[redacted]"


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_uvicorn_and_httpx_log_lines_are_redacted() -> None:
    install_query_redaction()
    install_query_redaction()  # idempotent
    access, client = logging.getLogger("uvicorn.access"), logging.getLogger("httpx")
    gateway = logging.getLogger("vidgate.gateway")
    assert sum(isinstance(f, QueryRedactingFilter) for f in access.filters) == 1
    seen = _Lines()
    targets = (access, client, gateway)
    levels = [t.level for t in targets]
    for target in targets:
        target.addHandler(seen)
        target.setLevel(logging.INFO)
    try:
        access.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "GET",
            "/gemini/v1beta/files/abcs0:download?alt=media&key=AIzaSyTopSecret",
            "1.1",
            200,
        )
        client.info(
            'HTTP Request: %s %s "%s %d %s"',
            "GET",
            httpx.URL("https://storage.example/v?X-Goog-Signature=deadbeef&a=1"),
            "HTTP/1.1",
            200,
            "OK",
        )
        gateway.warning(
            "poll of %s failed: %s", "video_1", Timeout("Request timed out: GET https://h/op?key=AIzaS3cret")
        )
    finally:
        for target, level in zip(targets, levels, strict=True):
            target.removeHandler(seen)
            target.setLevel(level)
    assert seen.lines == [
        '127.0.0.1:5000 - "GET /gemini/v1beta/files/abcs0:download?alt=media&key=[redacted] HTTP/1.1" 200',
        'HTTP Request: GET https://storage.example/v?X-Goog-Signature=[redacted]&a=1 "HTTP/1.1 200 OK"',
        "poll of video_1 failed: Timeout 408: Request timed out: GET https://h/op?key=[redacted]",
    ]


def test_request_ids_are_unique_and_fresh_in_a_forked_child() -> None:
    ids = {new_request_id() for _ in range(1000)}
    assert len(ids) == 1000
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report one id and leave at once
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 100).decode()
    os.close(read)
    assert child[:12] != next(iter(ids))[:12]  # another prefix, so no clash with this process's ids


def test_lean_log_records_skip_process_thread_and_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (("logThreads", True), ("logProcesses", True), ("logMultiprocessing", True)):
        monkeypatch.setattr(logging, name, value)
    monkeypatch.setattr(logging, "_srcfile", logging._srcfile)  # restored after the test
    lean_log_records()
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    logger = logging.getLogger("vidgate.test.lean")
    logger.addHandler(Keep())
    logger.propagate = False
    logger.warning("one line")
    [record] = seen
    assert (record.process, record.thread, record.processName) == (None, None, None)
    assert (record.funcName, record.lineno) == ("(unknown function)", 0)  # no stack walk for the caller
    assert record.getMessage() == "one line"


class _Stream:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


@contextmanager
def _serve_logging() -> Iterator[tuple[_Stream, LoopBatchingStreamHandler]]:
    """``vidgate.access`` configured as ``vidgate serve`` configures it, writing to a recorder. Entered in
    the test's body: pytest attaches its capture handlers to non-propagating loggers before the body."""
    saved = (access_log.handlers, access_log.filters, access_log.propagate, access_log.level)
    stream = _Stream()
    handler = LoopBatchingStreamHandler(stream)  # type: ignore[arg-type]
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_log.handlers, access_log.filters, access_log.propagate = [handler], [], False
    access_log.setLevel(logging.INFO)
    try:
        yield stream, handler
    finally:
        access_log.handlers, access_log.filters, access_log.propagate = saved[:3]
        access_log.setLevel(saved[3])


def test_access_lines_skip_the_log_record_on_vidgate_serves_config(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_record(*args: object, **kwargs: object) -> logging.LogRecord:
        raise AssertionError("a LogRecord was built")

    monkeypatch.setattr(access_log, "makeRecord", no_record)
    with _serve_logging() as (stream, _):
        write_access_line('{"status":200}')
        write_access_line('{"status":404}')
    assert stream.text == '{"status":200}\n{"status":404}\n'


@pytest.mark.parametrize(
    "change", ["logger filter", "handler filter", "format", "handler level", "propagate"]
)
def test_access_lines_go_through_logging_when_the_config_asks_for_more(change: str) -> None:
    seen: list[str] = []

    def keep(record: logging.LogRecord) -> bool:
        seen.append(record.getMessage())
        return True

    with _serve_logging() as (stream, handler):
        if change == "logger filter":
            access_log.addFilter(keep)
        elif change == "handler filter":
            handler.addFilter(keep)
        elif change == "format":
            handler.setFormatter(logging.Formatter("access %(levelname)s %(message)s"))
        elif change == "handler level":
            handler.setLevel(logging.WARNING)
        else:
            access_log.propagate = True
            parent, access_log.parent = access_log.parent, _keeping_parent(seen)
        try:
            write_access_line('{"status":200}')
        finally:
            if change == "propagate":
                access_log.parent = parent
    expected = {
        "logger filter": ('{"status":200}\n', ['{"status":200}']),
        "handler filter": ('{"status":200}\n', ['{"status":200}']),
        "format": ('access INFO {"status":200}\n', []),
        "handler level": ("", []),
        "propagate": ('{"status":200}\n', ['{"status":200}']),
    }[change]
    assert (stream.text, seen) == expected


def _keeping_parent(seen: list[str]) -> logging.Logger:
    """A parent logger whose handler records what propagates to it."""

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    parent = logging.Logger("vidgate.test.parent")
    parent.addHandler(Keep())
    return parent


def test_a_body_that_stops_arriving_is_answered_408_and_its_connection_closed(local_root: Path) -> None:
    """A client that sends its headers and part of its body, then waits, used to hold the connection
    forever (uvicorn bounds no body read): after ``request_body_timeout`` it gets a 408 in the route's
    envelope and the server closes the connection (recv returns b"" only then)."""
    config = gateway_config(local_root, request_body_timeout=0.2)
    gemini = "/gemini/v1beta/models/local-1:predictLongRunning"
    with live_server(create_app(config, stores=MemoryStores(), run_worker=False)) as url:
        for path, auth in (
            ("/v1/videos", f"Authorization: Bearer {MASTER}"),
            (gemini, f"x-goog-api-key: {MASTER}"),
        ):
            head = f"POST {path} HTTP/1.1\r\nHost: gw\r\n{auth}\r\nContent-Type: application/json\r\n"
            status, headers, raw = raw_exchange(url, head.encode() + b'Content-Length: 100\r\n\r\n{"model":')
            body = orjson.loads(raw)
            assert status == "HTTP/1.1 408 Request Timeout", body
            assert headers["connection"] == "close"
            assert "no bytes for 0.2 seconds" in body["error"]["message"]
            if path == gemini:
                assert body["error"]["status"] == "DEADLINE_EXCEEDED"
            else:
                assert body["error"]["code"] == "request_body_timeout"
