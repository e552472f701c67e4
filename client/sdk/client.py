"""`MeshworkClient`: the facilitator's REST API (DESIGN.md "Facilitator REST API", v1) as typed
methods. Reads are retried on 429, 5xx and connection errors; a job submission and a cancel are
retried only when the request provably was not applied (client/sdk/retry.py)."""

import base64
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar
from uuid import UUID

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from client.sdk import transport
from client.sdk.errors import InvalidArgument, UnexpectedResponse
from client.sdk.models import (
    Account,
    ExecutorClass,
    Job,
    JobPage,
    LedgerPage,
    ObjectPage,
    Rental,
    RentalPage,
    StoredObject,
)
from client.sdk.retry import RetryPolicy

VERSION = "0.1.0"
MAX_WAIT_WINDOW_S = 60.0  # the facilitator's own cap on `/wait/?timeout=`
STORAGE_DEFINITE = frozenset({502, 503, 504, 507})
M = TypeVar("M", bound=BaseModel)


class MeshworkClient:
    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self._timeout_s = timeout_s
        self._http = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Token {token}", "User-Agent": f"meshwork-sdk/{VERSION}"},
            timeout=timeout_s,
        )

    def __enter__(self) -> "MeshworkClient":
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def submit(
        self,
        image: str,
        *,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        executor_class: str | None = None,
        timeout_s: int | None = None,
        input_zip: bytes | None = None,
        input_url: str | None = None,
        tag: str | None = None,
    ) -> Job:
        """`POST /api/v1/jobs/`. Sent once: if its answer is lost, `OutcomeUnknown` says so (list
        the jobs by `tag` to find out whether it was created)."""
        if input_zip is not None and input_url is not None:
            raise InvalidArgument("give input_zip or input_url, not both")
        body: dict[str, Any] = {"image": image, "args": list(args), "env": dict(env or {})}
        if executor_class is not None:
            body["executor_class"] = executor_class
        if timeout_s is not None:
            body["timeout_s"] = timeout_s
        if input_zip is not None:
            body["input"] = {"zip_b64": base64.b64encode(input_zip).decode("ascii")}
        elif input_url is not None:
            body["input"] = {"url": input_url}
        if tag is not None:
            body["tag"] = tag
        return self._model(Job, self._send("POST", "/api/v1/jobs/", repeatable=False, json=body))

    def job(self, job_uuid: UUID | str) -> Job:
        return self._model(Job, self._send("GET", f"/api/v1/jobs/{_uuid(job_uuid)}/"))

    def wait(self, job_uuid: UUID | str, *, timeout_s: float = 30.0) -> Job:
        """One long-poll: the job as soon as it ends, or as it is after `timeout_s` (at most 60)."""
        window = max(0.0, min(timeout_s, MAX_WAIT_WINDOW_S))
        response = self._send(
            "GET",
            f"/api/v1/jobs/{_uuid(job_uuid)}/wait/",
            params={"timeout": window},
            timeout=self._timeout_s + window,
        )
        return self._model(Job, response)

    def follow(self, job_uuid: UUID | str, *, window_s: float = 2.0) -> Iterator[Job]:
        """The job after every long-poll window until it has ended (the last one yielded is
        finished); a short window shows its status history while it runs."""
        while True:
            job = self.wait(job_uuid, timeout_s=window_s)
            yield job
            if job.finished:
                return

    def jobs(self, *, status: str | None = None, tag: str | None = None, limit: int = 50, offset: int = 0) -> JobPage:
        params: dict[str, str | int] = {"limit": limit, "offset": offset}
        if status is not None:
            params["status"] = status
        if tag is not None:
            params["tag"] = tag
        return self._model(JobPage, self._send("GET", "/api/v1/jobs/", params=params))

    def cancel(self, job_uuid: UUID | str) -> Job:
        """`POST …/cancel/`; a job that already ended answers `ApiError` 400 on field `status`."""
        return self._model(Job, self._send("POST", f"/api/v1/jobs/{_uuid(job_uuid)}/cancel/", repeatable=False))

    def output(self, job_uuid: UUID | str) -> bytes:
        """The zip of the job's `/output`; `NotFound` while it has none."""
        return self._send("GET", f"/api/v1/jobs/{_uuid(job_uuid)}/output/").content

    def executor_classes(self) -> list[ExecutorClass]:
        response = self._send("GET", "/api/v1/executor-classes/")
        try:
            return TypeAdapter(list[ExecutorClass]).validate_json(response.content)
        except ValidationError as exc:
            raise _unexpected(response, exc) from exc

    def account(self) -> Account:
        return self._model(Account, self._send("GET", "/api/v1/account/"))

    def history(self, *, kind: str | None = None, limit: int = 50, offset: int = 0) -> LedgerPage:
        """`GET /api/v1/account/history/`: your credit ledger, newest first."""
        params: dict[str, str | int] = {"limit": limit, "offset": offset}
        if kind is not None:
            params["kind"] = kind
        return self._model(LedgerPage, self._send("GET", "/api/v1/account/history/", params=params))

    # Storage (docs/storage.md). An upload is sent once: its 5xx answers (502/503/504/507) all
    # mean nothing stays stored, so they are errors, not "outcome unknown".
    def object_put(self, data: bytes, *, name: str) -> StoredObject:
        response = self._send(
            "POST",
            "/api/v1/objects/",
            repeatable=False,
            definite=STORAGE_DEFINITE,
            params={"name": name},
            content=data,
            headers={"Content-Type": "application/octet-stream"},
            timeout=self._timeout_s + 300,
        )
        return self._model(StoredObject, response)

    def objects(self, *, limit: int = 50, offset: int = 0) -> ObjectPage:
        params = {"limit": limit, "offset": offset}
        return self._model(ObjectPage, self._send("GET", "/api/v1/objects/", params=params))

    def object(self, object_id: UUID | str) -> StoredObject:
        return self._model(StoredObject, self._send("GET", f"/api/v1/objects/{_uuid(object_id)}/"))

    def object_content(self, object_id: UUID | str) -> bytes:
        path = f"/api/v1/objects/{_uuid(object_id)}/content/"
        return self._send("GET", path, timeout=self._timeout_s + 300).content

    def object_delete(self, object_id: UUID | str) -> None:
        self._send("DELETE", f"/api/v1/objects/{_uuid(object_id)}/")

    # Rentals (docs/rentals.md). Renting is sent once, like a submission.
    def rent(self, *, executor_class: str, duration_s: int, ssh_public_key: str) -> Rental:
        body = {"executor_class": executor_class, "duration_s": duration_s, "ssh_public_key": ssh_public_key}
        return self._model(Rental, self._send("POST", "/api/v1/rentals/", repeatable=False, json=body))

    def rental(self, rental_uuid: UUID | str) -> Rental:
        return self._model(Rental, self._send("GET", f"/api/v1/rentals/{_uuid(rental_uuid)}/"))

    def rentals(self, *, limit: int = 50, offset: int = 0) -> RentalPage:
        params = {"limit": limit, "offset": offset}
        return self._model(RentalPage, self._send("GET", "/api/v1/rentals/", params=params))

    def rental_end(self, rental_uuid: UUID | str) -> Rental:
        """Ends it (the machine is removed); one already over answers `ApiError` 400 on `status`."""
        path = f"/api/v1/rentals/{_uuid(rental_uuid)}/"
        return self._model(Rental, self._send("DELETE", path, repeatable=False))

    def _send(
        self, method: str, path: str, *, repeatable: bool = True, definite: frozenset[int] = frozenset(), **kwargs: Any
    ) -> httpx.Response:
        return transport.request(
            self._http, method, path, policy=self.retry, repeatable=repeatable, definite=definite, **kwargs
        )

    @staticmethod
    def _model(model: type[M], response: httpx.Response) -> M:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise _unexpected(response, exc) from exc


def _uuid(value: UUID | str) -> UUID:
    """A job or object id checked before it goes into a URL path."""
    if isinstance(value, UUID):
        return value
    try:
        return UUID(value)
    except ValueError:
        raise InvalidArgument(f"not a uuid: {value!r}") from None


def _unexpected(response: httpx.Response, exc: ValidationError) -> UnexpectedResponse:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return UnexpectedResponse(
        f"{response.request.method} {response.request.url.path}: {response.status_code} with an unexpected body "
        f"({where}: {first['msg']}); is this a Meshwork facilitator of a compatible version?"
    )
