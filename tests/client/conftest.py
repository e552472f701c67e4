"""The SDK's and CLI's peers: a real facilitator (pytest-django's live server, a threaded HTTP
server in front of the whole Django app on the test database) and a scripted misbehaving HTTP
server that answers what a test tells it to and counts what it was asked."""

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from client.sdk import RetryPolicy
from facilitator.models import Job
from facilitator.services.credits import credits_grant
from facilitator.services.status import job_apply_status_update
from protocol.messages.common import Failure, FailureKind, JobResult
from protocol.messages.facilitator import JobStatusUpdate
from protocol.messages.jobs import JobStatus
from tests.facilitator.factories import FUNDED_CREDITS, TokenFactory
from tests.factories import UserFactory


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    body: bytes


class ScriptedServer:
    """Answers each request with the next scripted `Reply` (the last one repeats)."""

    def __init__(self, replies: list[Reply], *, port: int = 0) -> None:
        self.replies = list(replies)
        self.seen: list[Seen] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _next(self, seen: Seen) -> Reply:
        self.seen.append(seen)
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                reply = server._next(Seen(self.command, self.path, self.rfile.read(length)))
                time.sleep(reply.delay_s)
                raw = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                    pass

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def scripted() -> Iterator[Any]:
    """`scripted(replies)` starts a ScriptedServer; all are closed after the test."""
    servers: list[ScriptedServer] = []

    def start(replies: list[Reply], *, port: int = 0) -> ScriptedServer:
        servers.append(ScriptedServer(replies, port=port))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Sleeps(list[float]):
    """A RetryPolicy's sleep that records instead of waiting (callbacks may act at each wait)."""

    def __init__(self, *, on_sleep: Any = None) -> None:
        super().__init__()
        self.on_sleep = on_sleep

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        if self.on_sleep is not None:
            self.on_sleep(len(self))


def quick_policy(sleeps: Sleeps, **kwargs: Any) -> RetryPolicy:
    return RetryPolicy(sleep=sleeps, **{"max_attempts": 4, "base_delay_s": 0.1, "max_delay_s": 1.0, **kwargs})


def job_body(**overrides: Any) -> dict[str, Any]:
    """A job as the facilitator renders it (DESIGN.md "Facilitator REST API")."""
    return {
        "uuid": "7b3a2f52-8d44-4a7e-9c8a-3d0c5e1b2a11",
        "status": "pending",
        "status_history": [{"status": "pending", "at": "2026-12-02T18:00:00Z", "detail": ""}],
        "image": "meshwork/job-python:3.11",
        "args": ["python3", "-c", "print(1)"],
        "tag": "",
        "timeout_s": 600,
        "exit_code": None,
        "stdout": "",
        "stderr": "",
        "output_url": None,
        "executor_class": "cpu.small",
        "miner_hotkey": "",
        "validator_hotkey": "",
        "cost": None,
        "created_at": "2026-12-02T18:00:00Z",
        "started_at": None,
        "finished_at": None,
        "failure": None,
        **overrides,
    }


@dataclass(frozen=True)
class LiveFacilitator:
    url: str
    token: str
    user: Any


@pytest.fixture
def facilitator(live_server: Any, executor_classes: Any) -> LiveFacilitator:
    """A real facilitator over HTTP, with a funded user and their API token."""
    user = UserFactory.create()
    credits_grant(user=user, amount=FUNDED_CREDITS, note="test")
    return LiveFacilitator(url=live_server.url, token=TokenFactory.create(user=user).key, user=user)


def job_finish(
    job_uuid: Any,
    *,
    exit_code: int | None,
    stdout: str = "",
    stderr: str = "",
    output_zip_b64: str = "",
    status: str = "",
) -> None:
    """Ends a job as a validator that took it would report it (through the real service)."""
    Job.objects.filter(uuid=job_uuid).update(status=JobStatus.RUNNING, validator_hotkey="5Validator")
    failure = None
    if not status:
        status = JobStatus.COMPLETED if exit_code == 0 else JobStatus.FAILED
    if status == JobStatus.FAILED and exit_code:
        failure = Failure(kind=FailureKind.JOB, reason="nonzero_exit", detail=f"exit code {exit_code}")
    result = JobResult(
        exit_code=exit_code, stdout=stdout, stderr=stderr, output_zip_b64=output_zip_b64, executor_seconds=1.0
    )
    update = JobStatusUpdate(job_uuid=job_uuid, status=JobStatus(status), result=result, failure=failure)
    job_apply_status_update(validator_hotkey="5Validator", update=update)
