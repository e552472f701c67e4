"""Typed errors. Every error has a one-line `str()` that says what failed, so a caller (the CLI)
can print it as it is; API errors also carry the HTTP status and the `{"field": ["reason"]}`
body the facilitator answers with."""

from typing import Any


class MeshworkError(Exception):
    """Anything the SDK raises."""


class InvalidArgument(MeshworkError, ValueError):
    """A value the SDK refuses before sending anything (a job id that is not a uuid, …)."""


class Unreachable(MeshworkError):
    """No answer from the facilitator: connection refused, DNS failure, or a timeout."""


class UnexpectedResponse(MeshworkError):
    """A success status with a body that is not what the API promises (a proxy page, another
    server on that port, an incompatible version)."""


class OutcomeUnknown(MeshworkError):
    """A request that must not be repeated (a job submission, a cancel) was sent, but its answer
    was lost: a timeout, a dropped connection, a 5xx from a proxy. It may or may not have been
    applied, so it is not retried (a job is never created twice behind the caller's back)."""

    def __init__(self, message: str, *, method: str, path: str, status: int | None = None) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.status = status


class ApiError(MeshworkError):
    """The facilitator answered with an error status."""

    def __init__(self, *, status: int, body: Any, method: str, path: str) -> None:
        self.status = status
        self.body = body
        self.method = method
        self.path = path
        self.errors = _field_errors(body)
        super().__init__(self._message())

    @property
    def field(self) -> str | None:
        """The first field the facilitator named (`body` for a malformed request, `detail` for an
        error without a field)."""
        return next(iter(self.errors), None)

    @property
    def reason(self) -> str:
        if self.field is None:
            return _body_text(self.body) or "no reason given"
        return "; ".join(self.errors[self.field])

    def _message(self) -> str:
        where = f"{self.method} {self.path}: {self.status}"
        if self.field is None or self.field == "detail":
            return f"{where} {self.reason}"
        return f"{where} {self.field}: {self.reason}"


class AuthenticationFailed(ApiError):
    """401 or 403: the token is missing, wrong, or lacks the right."""


class InsufficientCredits(ApiError):
    """402: the account's available credits do not cover the job's hold."""


class NotFound(ApiError):
    """404: no such job (or not this user's), or a job without output."""


class RateLimited(ApiError):
    """429 that outlasted the retry policy (or asked to wait longer than it allows)."""

    def __init__(self, *, retry_after: float | None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(**kwargs)


class ServerError(ApiError):
    """5xx that outlasted the retry policy."""


def api_error(*, status: int, body: Any, method: str, path: str, retry_after: float | None = None) -> ApiError:
    """The most specific error class for a status."""
    if status == 429:
        return RateLimited(status=status, body=body, method=method, path=path, retry_after=retry_after)
    kinds: dict[int, type[ApiError]] = {
        401: AuthenticationFailed,
        402: InsufficientCredits,
        403: AuthenticationFailed,
        404: NotFound,
    }
    kind = ServerError if status >= 500 else kinds.get(status, ApiError)
    return kind(status=status, body=body, method=method, path=path)


def _field_errors(body: Any) -> dict[str, list[str]]:
    """`{"field": ["reason", …]}` entries of a JSON body (DRF's `detail` string counts as one)."""
    if not isinstance(body, dict):
        return {}
    errors: dict[str, list[str]] = {}
    for field, value in body.items():
        if field == "detail" and isinstance(value, str):
            errors["detail"] = [value]
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            errors[str(field)] = list(value)
    return errors


def _body_text(body: Any) -> str:
    text = body if isinstance(body, str) else ""
    return " ".join(text.split())[:200]
