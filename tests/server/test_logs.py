from __future__ import annotations

from vidgate.server.logs import redact, summarize_body


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
