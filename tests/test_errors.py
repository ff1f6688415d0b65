"""The exception tree: statuses, the OpenAI envelope, status lookup and OpenAI's enum wording."""

from __future__ import annotations

import pytest

from vidgate.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
    ConflictError,
    ContentPolicyViolationError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    Timeout,
    UnsupportedOperationError,
    error_class_for_status,
    invalid_value,
)


@pytest.mark.parametrize(
    ("cls", "status", "kind", "parent"),
    [
        (APIError, 500, "api_error", Exception),
        (BadRequestError, 400, "invalid_request_error", APIError),
        (ContentPolicyViolationError, 400, "content_policy_violation", BadRequestError),
        (AuthenticationError, 401, "invalid_request_error", APIError),
        (PermissionDeniedError, 403, "permission_denied", APIError),
        (NotFoundError, 404, "invalid_request_error", APIError),
        (ConflictError, 409, "invalid_request_error", APIError),
        (RateLimitError, 429, "rate_limit_error", APIError),
        (BudgetExceededError, 429, "budget_exceeded", RateLimitError),
        (InternalServerError, 500, "server_error", APIError),
        (ServiceUnavailableError, 503, "service_unavailable", APIError),
        (APIConnectionError, 502, "api_connection_error", APIError),
        (Timeout, 408, "timeout", APIConnectionError),
    ],
)
def test_status_classes(cls: type[APIError], status: int, kind: str, parent: type[Exception]) -> None:
    err = cls("boom")
    assert err.status_code == status
    assert err.type == kind
    assert isinstance(err, parent)
    assert isinstance(err, APIError)
    assert err.message == "boom"


def test_unsupported_operation_is_a_bad_request_naming_operation_and_provider() -> None:
    err = UnsupportedOperationError("remix", "gemini")
    assert isinstance(err, BadRequestError)
    assert err.status_code == 400
    assert err.operation == "remix"
    assert err.provider == "gemini"
    assert err.code == "unsupported_operation"
    assert err.message == "Provider 'gemini' does not support 'remix'."
    assert UnsupportedOperationError("list", "x", message="custom").message == "custom"


def test_status_code_override_is_per_instance() -> None:
    err = BadRequestError("too big", status_code=413)
    assert err.status_code == 413
    assert BadRequestError("plain").status_code == 400
    assert BadRequestError.status_code == 400


def test_to_openai_envelope() -> None:
    err = BadRequestError("Invalid value: '7'.", param="seconds", code="invalid_value")
    assert err.to_openai() == {
        "error": {
            "message": "Invalid value: '7'.",
            "type": "invalid_request_error",
            "param": "seconds",
            "code": "invalid_value",
        }
    }
    bare = InternalServerError("oops")
    assert bare.to_openai() == {
        "error": {"message": "oops", "type": "server_error", "param": None, "code": None}
    }
    assert RateLimitError("slow down", type="tokens").to_openai()["error"]["type"] == "tokens"


def test_extra_fields_are_kept() -> None:
    err = RateLimitError("later", provider="openai", body={"raw": 1}, retry_after=2.5)
    assert (err.provider, err.body, err.retry_after) == ("openai", {"raw": 1}, 2.5)


def test_str_names_class_status_and_param() -> None:
    assert str(BadRequestError("bad", param="size")) == "BadRequestError 400: bad (param: size)"
    assert str(NotFoundError("gone")) == "NotFoundError 404: gone"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (408, Timeout),
        (409, ConflictError),
        (422, BadRequestError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, APIConnectionError),
        (503, ServiceUnavailableError),
        (504, Timeout),
    ],
)
def test_error_class_for_known_statuses(status: int, cls: type[APIError]) -> None:
    assert error_class_for_status(status) is cls


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (402, BadRequestError),
        (413, BadRequestError),
        (418, BadRequestError),
        (499, BadRequestError),
        (501, InternalServerError),
        (507, InternalServerError),
        (599, InternalServerError),
        (302, InternalServerError),
        (200, InternalServerError),
    ],
)
def test_error_class_for_unknown_statuses(status: int, cls: type[APIError]) -> None:
    assert error_class_for_status(status) is cls


def test_invalid_value_one_value() -> None:
    err = invalid_value("n", 3, [1])
    assert err.message == "Invalid value: '3'. Supported values are: '1'."
    assert (err.param, err.code, err.status_code) == ("n", "invalid_value", 400)


def test_invalid_value_two_values() -> None:
    err = invalid_value("person_generation", "allow_all", ["allow_adult", "dont_allow"])
    assert err.message == "Invalid value: 'allow_all'. Supported values are: 'allow_adult' and 'dont_allow'."


def test_invalid_value_three_or_more_values_use_the_serial_comma() -> None:
    err = invalid_value("seconds", "15", ["4", "8", "12"])
    assert err.message == "Invalid value: '15'. Supported values are: '4', '8', and '12'."
    many = invalid_value("size", "1920x1080", ["720x1280", "1280x720", "1024x1792", "1792x1024"])
    assert many.message == (
        "Invalid value: '1920x1080'. Supported values are: "
        "'720x1280', '1280x720', '1024x1792', and '1792x1024'."
    )
    assert many.param == "size"
    assert isinstance(many, BadRequestError)


def test_invalid_value_with_nothing_allowed_still_reads() -> None:
    assert invalid_value("x", "y", []).message == "Invalid value: 'y'. No values are supported."
