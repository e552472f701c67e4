"""Running `meshwork` in-process (typer's CliRunner) against the test's facilitator."""

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connections
from typer.testing import CliRunner

from client.cli.app import app
from facilitator.models import Job
from tests.client.conftest import job_finish


@pytest.fixture
def meshwork(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Callable[..., Any]:
    """`meshwork(*args, url=…, token=…)` runs the command and returns click's Result (stdout and
    stderr apart). No ambient configuration leaks in: no MESHWORK_* and an empty LOCALNET_DIR."""
    for name in ("MESHWORK_URL", "MESHWORK_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOCALNET_DIR", str(tmp_path / "no-localnet"))

    def run(*args: str, url: str | None = None, token: str | None = None, env: dict[str, str] | None = None) -> Any:
        options = [*(["--url", url] if url else []), *(["--token", token] if token else [])]
        return CliRunner().invoke(app, [*options, *args], env=env)

    return run


def one_error_line(stderr: str) -> str:
    """The error a failed command printed, checked to be exactly one line and no traceback."""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("meshwork: error: "), stderr
    assert "Traceback" not in stderr
    return lines[0].removeprefix("meshwork: error: ")


@pytest.fixture
def finish_when_submitted() -> Iterator[Callable[..., None]]:
    """`finish_when_submitted(tag, …)` ends the job tagged `tag`, from another thread, half a
    second after it was submitted, as a validator would while the CLI follows it."""
    threads: list[threading.Thread] = []

    def run(tag: str, result: dict[str, Any]) -> None:
        try:
            deadline = time.monotonic() + 20
            while not (job := Job.objects.filter(tag=tag).first()) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert job is not None, f"no job tagged {tag!r} was submitted"
            time.sleep(0.5)
            job_finish(job.uuid, **result)
        finally:
            connections.close_all()

    def later(tag: str, **result: Any) -> None:
        threads.append(threading.Thread(target=run, args=(tag, result)))
        threads[-1].start()

    yield later
    for thread in threads:
        thread.join()
