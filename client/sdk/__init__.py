"""A typed client for the facilitator's REST API (docs/cli.md)."""

from client.sdk.client import MeshworkClient
from client.sdk.errors import (
    ApiError,
    AuthenticationFailed,
    InsufficientCredits,
    InvalidArgument,
    MeshworkError,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    ServerError,
    UnexpectedResponse,
    Unreachable,
)
from client.sdk.models import (
    Account,
    ExecutorClass,
    Job,
    JobFailure,
    JobPage,
    LedgerEntry,
    LedgerPage,
    Rental,
    SshLogin,
    StatusEvent,
)
from client.sdk.retry import RetryPolicy

__all__ = [
    "Account",
    "ApiError",
    "AuthenticationFailed",
    "ExecutorClass",
    "InsufficientCredits",
    "InvalidArgument",
    "Job",
    "JobFailure",
    "JobPage",
    "LedgerEntry",
    "LedgerPage",
    "MeshworkClient",
    "MeshworkError",
    "NotFound",
    "OutcomeUnknown",
    "RateLimited",
    "Rental",
    "RetryPolicy",
    "ServerError",
    "SshLogin",
    "StatusEvent",
    "UnexpectedResponse",
    "Unreachable",
]
