"""The exception tree under the name the seeds import it from.

``from vidgate.exceptions import APIError, Timeout`` (seed 000) works as it does with the incumbent.
"""

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
)

OpenAIError = APIError  # the seeds catch this name; every vidgate error is one

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
    "OpenAIError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServiceUnavailableError",
    "Timeout",
    "UnsupportedOperationError",
]
