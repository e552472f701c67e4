"""One HTTP request to the facilitator under the retry policy (client/sdk/retry.py), turned into
a response or a typed error."""

from typing import Any

import httpx

from client.sdk.errors import OutcomeUnknown, Unreachable, api_error
from client.sdk.retry import RETRYABLE_STATUSES, RetryPolicy, retry_after_s

# Failures before any byte of the request left: repeating them cannot apply anything twice.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def request(
    http: httpx.Client,
    method: str,
    path: str,
    *,
    policy: RetryPolicy,
    repeatable: bool,
    definite: frozenset[int] = frozenset(),
    **kwargs: Any,
) -> httpx.Response:
    """The first non-error response; `repeatable` says whether a request that may have been applied
    can be sent again (GETs) or not (a job submission, a cancel)."""
    attempt = 0
    while True:
        try:
            response = http.request(method, path, **kwargs)
        except NOT_SENT as exc:
            wait = policy.delay_s(attempt, None)
            if wait is None:
                raise Unreachable(f"{method} {_where(http, path)}: {_describe(exc)}") from exc
        except httpx.TransportError as exc:
            if not repeatable:
                raise OutcomeUnknown(
                    f"{method} {path}: {_describe(exc)} after the request was sent; it may have been applied",
                    method=method,
                    path=path,
                ) from exc
            wait = policy.delay_s(attempt, None)
            if wait is None:
                raise Unreachable(f"{method} {_where(http, path)}: {_describe(exc)}") from exc
        else:
            if response.is_success:
                return response
            wait = _wait_for(response, policy=policy, attempt=attempt, repeatable=repeatable)
            if wait is None:
                raise _error(
                    response, method=method, path=path, repeatable=repeatable or response.status_code in definite
                )
        policy.sleep(wait)
        attempt += 1


def _wait_for(response: httpx.Response, *, policy: RetryPolicy, attempt: int, repeatable: bool) -> float | None:
    if response.status_code == 429:
        return policy.delay_s(attempt, retry_after_s(response.headers.get("Retry-After")))
    if response.status_code in RETRYABLE_STATUSES and repeatable:
        return policy.delay_s(attempt, retry_after_s(response.headers.get("Retry-After")))
    return None


def _error(response: httpx.Response, *, method: str, path: str, repeatable: bool) -> Exception:
    status = response.status_code
    if status >= 500 and not repeatable:
        return OutcomeUnknown(
            f"{method} {path}: {status} from the server; the request may have been applied",
            method=method,
            path=path,
            status=status,
        )
    return api_error(
        status=status,
        body=_body(response),
        method=method,
        path=path,
        retry_after=retry_after_s(response.headers.get("Retry-After")),
    )


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _where(http: httpx.Client, path: str) -> str:
    return str(http.base_url.join(path))


def _describe(exc: httpx.TransportError) -> str:
    kind = {
        httpx.ConnectError: "cannot connect",
        httpx.ConnectTimeout: "connection timed out",
        httpx.ReadTimeout: "no answer in time",
        httpx.PoolTimeout: "no free connection in time",
    }.get(type(exc), "connection failed")
    detail = " ".join(str(exc).split())
    return f"{kind} ({detail})" if detail else kind
