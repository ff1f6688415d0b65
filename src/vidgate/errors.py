"""One exception tree for every failure, with OpenAI-compatible names and HTTP statuses.

Adapters map provider replies into it (``Provider.error_for``); the server renders it back as an
OpenAI (or Google) error body. Catching ``APIError`` catches everything vidgate raises on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar


class APIError(Exception):
    """Base of every vidgate error. ``status_code`` is the HTTP status the gateway answers with."""

    status_code: ClassVar[int] = 500
    default_type: ClassVar[str] = "api_error"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        type: str | None = None,
        provider: str | None = None,
        status_code: int | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        self.type = type or self.default_type
        self.provider = provider
        self.body = body
        self.retry_after = retry_after
        if status_code is not None:
            self.status_code = status_code  # type: ignore[misc]

    def to_openai(self) -> dict[str, Any]:
        """The OpenAI error envelope ``{"error": {message, type, param, code}}``."""
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def __str__(self) -> str:
        where = f" (param: {self.param})" if self.param else ""
        return f"{type(self).__name__} {self.status_code}: {self.message}{where}"


class BadRequestError(APIError):
    status_code = 400
    default_type = "invalid_request_error"


def missing_parameters(names: Sequence[str]) -> BadRequestError:
    """Every missing required parameter of a request in one 400 (``param`` names the first)."""
    listed = ", ".join(f"'{name}'" for name in names)
    plural = "s" if len(names) > 1 else ""
    return BadRequestError(
        f"Missing required parameter{plural}: {listed}.", param=names[0], code="missing_required_parameter"
    )


class UnsupportedOperationError(BadRequestError):
    """The provider has no such operation (e.g. remix on Veo): declared absent, never stubbed.
    ``answered``: the provider said so (a server without the route), rather than its declaration; only
    then is it one of the provider's errors (``vidgate_upstream_errors_total``)."""

    def __init__(
        self, operation: str, provider: str, *, message: str | None = None, answered: bool = False
    ) -> None:
        super().__init__(
            message or f"Provider '{provider}' does not support '{operation}'.",
            code="unsupported_operation",
            provider=provider,
        )
        self.operation = operation
        self.answered = answered


class ContentPolicyViolationError(BadRequestError):
    default_type = "content_policy_violation"


class AuthenticationError(APIError):
    status_code = 401
    default_type = "invalid_request_error"


class PermissionDeniedError(APIError):
    status_code = 403
    default_type = "permission_denied"


class NotFoundError(APIError):
    status_code = 404
    default_type = "invalid_request_error"


class ConflictError(APIError):
    status_code = 409
    default_type = "invalid_request_error"


class RateLimitError(APIError):
    status_code = 429
    default_type = "rate_limit_error"


class BudgetExceededError(RateLimitError):
    """The key's budget cannot cover the exact cost reserved for this request."""

    default_type = "budget_exceeded"


class InternalServerError(APIError):
    status_code = 500
    default_type = "server_error"


class ServiceUnavailableError(APIError):
    status_code = 503
    default_type = "service_unavailable"


class APIConnectionError(APIError):
    """The provider could not be reached, or the connection broke mid-request. ``never_sent``: the
    request certainly did not reach the provider (refused, DNS, TLS handshake, no pooled connection
    in time), so even a paid create may go to another deployment; whichever client sent it says so."""

    status_code = 502
    default_type = "api_connection_error"

    def __init__(self, message: str, *, never_sent: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.never_sent = never_sent


class UpstreamError(APIError):
    """The provider failed at what it was asked (its 5xx, a file it could not produce): 502, a fault
    upstream, neither the caller's nor the gateway's. ``permanent``: asking again fails the same way
    (the local renderer cannot decode a job's input), so nothing retries it as if it were transient.
    ``provider_status``: the status the provider answered, which the upstream-error metric counts."""

    status_code = 502
    default_type = "upstream_error"

    def __init__(
        self, message: str, *, permanent: bool = False, provider_status: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.permanent = permanent
        self.provider_status = provider_status or self.status_code


class Timeout(APIConnectionError):
    status_code = 408
    default_type = "timeout"


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: Timeout,
    409: ConflictError,
    422: BadRequestError,
    429: RateLimitError,
    500: InternalServerError,
    502: APIConnectionError,
    503: ServiceUnavailableError,
    504: Timeout,
}


def error_class_for_status(status: int) -> type[APIError]:
    """The exception class for an HTTP status (unknown 4xx -> BadRequestError, 5xx -> InternalServerError)."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return BadRequestError if 400 <= status < 500 else InternalServerError


def invalid_value(
    param: str, value: object, allowed: list[str] | list[int] | list[object]
) -> BadRequestError:
    """OpenAI's wording for an enum violation.

    ``Invalid value: '7'. Supported values are: '4', '8', and '12'.``
    """
    quoted = [f"'{a}'" for a in allowed]
    if not quoted:
        supported = "No values are supported."
    elif len(quoted) > 2:
        supported = "Supported values are: " + ", ".join(quoted[:-1]) + f", and {quoted[-1]}."
    else:
        supported = "Supported values are: " + " and ".join(quoted) + "."
    return BadRequestError(f"Invalid value: '{value}'. {supported}", param=param, code="invalid_value")


__all__ = [
    "APIConnectionError",
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceededError",
    "ConflictError",
    "ContentPolicyViolationError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServiceUnavailableError",
    "Timeout",
    "UnsupportedOperationError",
    "UpstreamError",
    "error_class_for_status",
    "invalid_value",
]
