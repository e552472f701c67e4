"""The volume workspace (engines reached only through the API), forced onto the local engine."""

from typing import Any

import docker
import pytest

from executor.runtime import workspace
from protocol.messages.common import FailureKind, ZipInput
from protocol.messages.jobs import JobFailed, JobFinished
from tests.executor.runtime.conftest import Drive
from tests.executor.runtime.job_runs import b64, python_run, unzip, zip_bytes

pytestmark = pytest.mark.docker


@pytest.fixture(autouse=True)
def _volumes_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workspace, "tmpfs_supported", lambda: False)


async def test_input_is_read_only_output_is_writable_by_nobody_and_comes_back(
    drive: Drive, docker_client: docker.DockerClient
) -> None:
    data = zip_bytes({"in/a.txt": "alpha"})
    code = (
        "import os; text = open('/volume/in/a.txt').read(); os.makedirs('/output/sub');"
        "open('/output/sub/copy.txt', 'w').write(text * 2); os.symlink('/etc/hostname', '/output/link')\n"
        "try:\n open('/volume/x', 'w')\nexcept OSError as e:\n print(e.errno, os.getuid())"
    )
    driven = await drive(python_run(code, input=ZipInput(zip_b64=b64(data))))
    assert isinstance(driven.terminal, JobFinished), driven.terminal
    assert driven.terminal.result.stdout == "30 65534\n"  # EROFS, as nobody
    assert unzip(driven.terminal.result.output_zip_b64) == {"sub/copy.txt": b"alphaalpha"}
    volumes = docker_client.volumes.list(filters={"label": f"meshwork.job={driven.run.job_uuid}"})
    assert volumes == []


async def test_a_job_without_input_still_writes_output(drive: Drive) -> None:
    driven = await drive(python_run("open('/output/o', 'w').write('out')"))
    assert unzip(driven.terminal.result.output_zip_b64) == {"o": b"out"}


async def test_output_over_the_limit_is_caught_after_the_run(drive: Drive) -> None:
    driven = await drive(python_run("open('/output/big', 'wb').write(b'x' * (2 * 1024 * 1024))", output_mb=1))
    terminal: Any = driven.terminal
    assert isinstance(terminal, JobFailed)
    assert (terminal.failure.kind, terminal.failure.reason) == (FailureKind.JOB, "output_too_large")
    assert terminal.failure.detail == "/output holds more than 1048576 bytes (the class limit)"


async def test_a_traversing_zip_is_refused_before_any_helper_runs(drive: Drive) -> None:
    driven = await drive(python_run("pass", input=ZipInput(zip_b64=b64(zip_bytes({"../x": "x"})))))
    assert driven.types == ["job.executor_ready", "job.failed"]
    assert driven.terminal.failure.reason == "input_invalid"
