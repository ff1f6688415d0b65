"""The ``callback_url`` policy: what the gateway agrees to POST to (SSRF: no private addresses unless
the operator allows them), each refusal a 400 naming ``callback_url``."""

from __future__ import annotations

import pytest

from vidgate.errors import BadRequestError
from vidgate.gateway.callbacks import MAX_CALLBACK_URL, check_callback_url

PUBLIC = "https://hooks.example.com/vidgate?token=abc"


def refused(value: object, *, allow_private: bool = False) -> str:
    with pytest.raises(BadRequestError) as caught:
        check_callback_url(value, allow_private=allow_private)
    assert caught.value.param == "callback_url"
    return caught.value.message


def test_public_http_and_https_urls_are_accepted() -> None:
    assert check_callback_url(PUBLIC, allow_private=False) == PUBLIC
    assert check_callback_url("http://203.0.113.9:8080/h", allow_private=True) == "http://203.0.113.9:8080/h"
    assert check_callback_url("https://8.8.8.8/h", allow_private=False) == "https://8.8.8.8/h"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/h",
        "http://localhost:9000/h",
        "http://api.localhost/h",
        "http://10.1.2.3/h",
        "http://192.168.0.10/h",
        "http://172.16.5.5/h",
        "http://169.254.169.254/latest/meta-data",  # cloud metadata
        "http://100.64.0.1/h",  # CGNAT
        "http://[::1]/h",
        "http://[fe80::1]/h",
        "http://[::ffff:10.0.0.1]/h",  # IPv4-mapped private
        "http://0.0.0.0/h",
        "http://metadata.google.internal/computeMetadata/v1/",
    ],
)
def test_private_destinations_are_refused_unless_allowed(url: str) -> None:
    assert "private, loopback or link-local" in refused(url)
    assert check_callback_url(url, allow_private=True) == url


def test_malformed_urls_are_refused() -> None:
    assert "http:// or https://" in refused("ftp://hooks.example.com/x")
    assert "http:// or https://" in refused("hooks.example.com/x")
    assert "no host" in refused("https:///path")
    assert "credentials" in refused("https://user:pw@hooks.example.com/x")
    assert "fragment" in refused("https://hooks.example.com/x#frag")
    assert "without spaces" in refused("https://hooks.example.com/a b")
    assert "without spaces" in refused("https://hööks.example.com/")
    assert "not a URL" in refused("https://hooks.example.com:99999/")
    assert f"at most {MAX_CALLBACK_URL}" in refused("https://hooks.example.com/" + "a" * MAX_CALLBACK_URL)
    assert "expected a string" in refused(["https://hooks.example.com/"])
