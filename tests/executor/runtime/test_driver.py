"""The driver against the real Docker engine and job image: what a job sees, what it may not do,
what the miner hears, and that nothing is left behind (the `drive` fixture checks that each time)."""

import asyncio
import json
import re
from typing import Any

import pytest

from executor.runtime import job_container
from executor.runtime.driver import executor_run_job
from executor.runtime.names import owner_work_dir
from protocol.messages.common import FailureKind, JobResult, UrlInput, ZipInput
from protocol.messages.jobs import JobCancelled, JobFailed, JobFinished
from tests.executor.runtime.conftest import Drive
from tests.executor.runtime.http_server import serving
from tests.executor.runtime.job_runs import b64, make_run, python_run, unzip, zip_bytes

pytestmark = pytest.mark.docker

PROGRESS = ["job.executor_ready", "job.volume_ready", "job.started"]


def _failed(terminal: Any, reason: str, kind: FailureKind = FailureKind.JOB) -> JobFailed:
    assert isinstance(terminal, JobFailed), terminal
    assert (terminal.failure.kind, terminal.failure.reason) == (kind, reason), terminal.failure
    return terminal


async def test_a_job_completes_with_its_stdout_stderr_env_and_output(drive: Drive, owner: str) -> None:
    code = (
        "import os, sys, time; time.sleep(0.3); print('hello', os.environ['GREETING']);"
        "print('warn', file=sys.stderr); open('/output/result.txt', 'w').write(str(os.getuid()))"
    )
    driven = await drive(python_run(code, env={"GREETING": "world"}))
    assert driven.types == [*PROGRESS, "job.finished"]
    terminal = driven.terminal
    assert isinstance(terminal, JobFinished)
    result = terminal.result
    assert (result.exit_code, result.stdout, result.stderr) == (0, "hello world\n", "warn\n")
    assert unzip(result.output_zip_b64) == {"result.txt": b"65534"}  # ran as nobody
    assert 0.3 <= result.executor_seconds < 5
    assert not owner_work_dir(owner).exists()  # the owner's last job took its directory along


async def test_a_nonzero_exit_is_a_job_failure_with_the_result(drive: Drive) -> None:
    driven = await drive(python_run("import sys; print('bye'); sys.exit(3)"))
    assert driven.types == [*PROGRESS, "job.failed"]
    failed = _failed(driven.terminal, "nonzero_exit")
    assert failed.failure.detail == "exited with code 3"
    assert failed.result is not None
    assert (failed.result.exit_code, failed.result.stdout) == (3, "bye\n")


async def test_the_deadline_kills_the_job(drive: Drive) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    driven = await drive(python_run("import time; print('going', flush=True); time.sleep(60)", timeout_s=1))
    failed = _failed(driven.terminal, "timeout")
    assert loop.time() - started < 10
    assert failed.result is not None
    assert failed.result.stdout == "going\n"
    assert 1 <= failed.result.executor_seconds < 5


async def test_cancelling_a_running_job_stops_it_promptly(drive: Drive) -> None:
    cancel = asyncio.Event()
    loop = asyncio.get_running_loop()
    started = loop.time()
    driven = await drive(python_run("import time; time.sleep(60)"), cancel=cancel, on_started=cancel.set)
    assert driven.types == [*PROGRESS, "job.cancelled"]
    assert isinstance(driven.terminal, JobCancelled)
    assert loop.time() - started < 10


async def test_a_cancel_before_the_start_never_starts_the_container(drive: Drive) -> None:
    cancel = asyncio.Event()
    cancel.set()
    driven = await drive(python_run("print('never')"), cancel=cancel)
    assert driven.types == ["job.executor_ready", "job.cancelled"]
    assert driven.terminal == JobCancelled(job_uuid=driven.run.job_uuid)


async def test_a_missing_image_is_a_job_failure_and_never_pulled(drive: Drive) -> None:
    driven = await drive(make_run("true", image="meshwork/not-here:1"))
    assert driven.types == ["job.failed"]
    failed = _failed(driven.terminal, "image_missing")
    assert "'meshwork/not-here:1' is not present" in failed.failure.detail


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["no-such-command"], '"no-such-command": executable file not found in $PATH'),
        (["/etc/passwd"], '"/etc/passwd": permission denied'),
    ],
)
async def test_a_command_the_image_cannot_run_is_the_jobs_failure_not_the_engines(
    drive: Drive, args: list[str], says: str
) -> None:
    driven = await drive(make_run(*args))
    assert driven.types == ["job.executor_ready", "job.volume_ready", "job.failed"]  # it never started
    failed = _failed(driven.terminal, "command_not_runnable")
    assert says in failed.failure.detail


async def test_zip_input_is_read_only_at_volume_and_output_comes_back(drive: Drive) -> None:
    data = zip_bytes({"data/numbers.txt": "1 2 3 4", "readme": "hi"})
    code = (
        "import os; n = sum(map(int, open('/volume/data/numbers.txt').read().split()));"
        "open('/output/sum.txt', 'w').write(str(n)); os.makedirs('/output/deep/er');"
        "open('/output/deep/er/list.txt', 'w').write(','.join(sorted(os.listdir('/volume'))))\n"
        "try:\n open('/volume/new', 'w')\nexcept OSError as e:\n print(e.errno)"
    )
    driven = await drive(python_run(code, input=ZipInput(zip_b64=b64(data))))
    assert isinstance(driven.terminal, JobFinished)
    assert driven.terminal.result.stdout == "30\n"  # EROFS
    assert unzip(driven.terminal.result.output_zip_b64) == {"sum.txt": b"10", "deep/er/list.txt": b"data,readme"}


async def test_url_input_is_fetched_and_unpacked(drive: Drive, loopback_inputs: None) -> None:
    data = zip_bytes({"in.txt": "from the web"})
    with serving({"/input.zip": data}) as base:
        driven = await drive(
            python_run("print(open('/volume/in.txt').read())", input=UrlInput(url=f"{base}/input.zip"))
        )
    assert isinstance(driven.terminal, JobFinished)
    assert driven.terminal.result.stdout == "from the web\n"


async def test_an_unreachable_url_is_input_unreachable(drive: Drive, loopback_inputs: None) -> None:
    with serving({}) as base:
        driven = await drive(python_run("pass", input=UrlInput(url=f"{base}/gone.zip")))
    assert driven.types == ["job.executor_ready", "job.failed"]
    _failed(driven.terminal, "input_unreachable")


async def test_a_url_on_the_miners_host_is_the_jobs_failure_before_it_starts(drive: Drive) -> None:
    with serving({"/in.zip": zip_bytes({"a": "b"})}) as base:
        driven = await drive(python_run("pass", input=UrlInput(url=f"{base}/in.zip")))
    assert driven.types == ["job.executor_ready", "job.failed"]  # never started: 0 s to bill
    _failed(driven.terminal, "input_refused_address")


@pytest.mark.parametrize("files", [{"../escape.txt": "x"}, {"/etc/evil": "x"}])
async def test_a_traversing_zip_is_input_invalid(drive: Drive, files: dict[str, bytes | str]) -> None:
    driven = await drive(python_run("pass", input=ZipInput(zip_b64=b64(zip_bytes(files)))))
    assert driven.types == ["job.executor_ready", "job.failed"]
    _failed(driven.terminal, "input_invalid")


async def test_a_zip_bomb_is_input_invalid(drive: Drive, settings: Any) -> None:
    settings.EXECUTOR_MAX_INPUT_BYTES = 1024 * 1024
    bomb = zip_bytes({"zeros": b"\0" * (4 * 1024 * 1024)})
    driven = await drive(python_run("pass", input=ZipInput(zip_b64=b64(bomb))))
    assert "the limit is 1048576" in _failed(driven.terminal, "input_invalid").failure.detail


async def test_a_non_zip_input_is_input_invalid(drive: Drive) -> None:
    driven = await drive(python_run("pass", input=ZipInput(zip_b64=b64(b"plain text"))))
    _failed(driven.terminal, "input_invalid")


async def test_the_job_has_no_network_but_loopback(drive: Drive) -> None:
    code = (
        "import json, os, socket\n"
        "devs = [l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]]\n"
        "try:\n socket.create_connection(('1.1.1.1', 53), timeout=2); reach = True\n"
        "except OSError:\n reach = False\n"
        "print(json.dumps([sorted(os.listdir('/sys/class/net')), devs, reach]))"
    )
    driven = await drive(python_run(code))
    assert json.loads(driven.terminal.result.stdout) == [["lo"], ["lo"], False]


async def test_the_root_filesystem_is_read_only_and_capabilities_are_gone(drive: Drive) -> None:
    code = (
        "import errno, json\n"
        "def attempt(path):\n try:\n  open(path, 'w').write('x'); return 'ok'\n"
        " except OSError as e:\n  return errno.errorcode[e.errno]\n"
        "caps = [l.split()[1] for l in open('/proc/self/status') if l.startswith(('CapEff', 'CapPrm'))]\n"
        "nnp = [l.split()[1] for l in open('/proc/self/status') if l.startswith('NoNewPrivs')]\n"
        "print(json.dumps([attempt('/var/tmp/x'), attempt('/x'), attempt('/tmp/x'), attempt('/output/x'), caps, nnp]))"
    )
    driven = await drive(python_run(code))
    assert json.loads(driven.terminal.result.stdout) == [
        "EROFS",  # /var/tmp is world-writable in the image: only the read-only root stops it
        "EROFS",
        "ok",
        "ok",
        ["0000000000000000", "0000000000000000"],
        ["1"],
    ]


async def test_a_memory_hog_is_out_of_memory(drive: Drive) -> None:
    driven = await drive(python_run("x = b'x' * (512 * 1024 * 1024)", memory_mb=64))
    failed = _failed(driven.terminal, "out_of_memory")
    assert failed.failure.detail == "killed for exceeding the memory limit of 64 MiB"
    assert failed.result is not None
    assert failed.result.exit_code == 137


async def test_the_pids_limit_caps_processes(drive: Drive) -> None:
    code = (
        "import threading\nstop = threading.Event(); n = 0\n"
        "try:\n for _ in range(200):\n  threading.Thread(target=stop.wait).start(); n += 1\n"
        "except RuntimeError as e:\n print(n, e)\nstop.set()"
    )
    driven = await drive(python_run(code, pids=16))
    started, message = driven.terminal.result.stdout.split(" ", 1)
    assert 0 < int(started) < 16
    assert message == "can't start new thread\n"


async def test_output_over_the_limit_is_output_too_large(drive: Drive) -> None:
    code = "open('/output/big', 'wb').write(b'x' * (3 * 1024 * 1024))"
    driven = await drive(python_run(code, output_mb=1))
    failed = _failed(driven.terminal, "output_too_large")
    assert failed.result is not None
    assert "No space left on device" in failed.result.stderr


async def test_output_within_the_limit_but_past_it_in_total_is_output_too_large(drive: Drive) -> None:
    code = "[open(f'/output/{i}', 'wb').write(b'x' * 400_000) for i in range(3)]"  # 1.2 MB > 1 MiB, fits the slack
    driven = await drive(python_run(code, output_mb=1))
    assert "more than 1048576 bytes" in _failed(driven.terminal, "output_too_large").failure.detail


async def test_symlinks_in_output_are_not_followed(drive: Drive) -> None:
    code = "import os; os.symlink('/etc/hostname', '/output/link'); open('/output/real', 'w').write('r')"
    driven = await drive(python_run(code))
    assert unzip(driven.terminal.result.output_zip_b64) == {"real": b"r"}


async def test_logs_past_the_limit_are_truncated_with_a_marker(drive: Drive, settings: Any) -> None:
    settings.EXECUTOR_MAX_LOG_BYTES = 1000
    code = (
        "import sys\nfor _ in range(50):\n"
        " sys.stdout.write('a' * 100); sys.stdout.flush(); sys.stderr.write('b' * 30); sys.stderr.flush()"
    )
    driven = await drive(python_run(code))
    result: JobResult = driven.terminal.result
    assert result.stdout == "a" * 1000 + "\n[meshwork: stdout truncated: 5000 bytes written, 1000 kept]\n"
    assert result.stderr == "b" * 1000 + "\n[meshwork: stderr truncated: 1500 bytes written, 1000 kept]\n"
    assert (result.stdout_bytes, result.stdout_truncated) == (5000, True)
    assert (result.stderr_bytes, result.stderr_truncated) == (1500, True)


async def test_a_report_larger_than_a_frame_is_cut_to_fit_and_still_completes(drive: Drive, settings: Any) -> None:
    # NUL bytes escape to 6 JSON bytes each: 200 KB kept per stream would take 2.4 MB in the frame.
    settings.EXECUTOR_MAX_LOG_BYTES = 200_000
    settings.PROTOCOL_MAX_FRAME_BYTES = 64 * 1024 + 300_000
    code = "import sys\nsys.stdout.buffer.write(b'\\0' * 3_000_000); sys.stderr.buffer.write(b'e' * 500_000)"
    driven = await drive(python_run(code))
    assert isinstance(driven.terminal, JobFinished), driven.terminal
    result: JobResult = driven.terminal.result
    assert len(driven.terminal.model_dump_json().encode()) <= settings.PROTOCOL_MAX_FRAME_BYTES
    assert (result.stdout_bytes, result.stderr_bytes) == (3_000_000, 500_000)
    assert result.stdout_truncated
    assert result.stderr_truncated
    marker = re.search(r"\n\[meshwork: stdout truncated: 3000000 bytes written, (\d+) kept\]\n\Z", result.stdout)
    assert marker is not None, result.stdout[-200:]
    assert result.stdout[: marker.start()] == "\0" * int(marker.group(1))
    assert result.stderr.startswith("e" * 1000)


async def test_an_output_zip_too_large_for_a_frame_is_the_jobs_failure_with_its_logs(
    drive: Drive, settings: Any
) -> None:
    settings.PROTOCOL_MAX_FRAME_BYTES = 64 * 1024 + 200_000  # zips of up to ~146 KB fit
    code = "import os; print('wrote'); open('/output/noise', 'wb').write(os.urandom(400_000))"
    driven = await drive(python_run(code))
    failed = _failed(driven.terminal, "output_too_large")
    assert "zips to more than" in failed.failure.detail
    assert failed.result is not None
    assert failed.result.stdout == "wrote\n"


async def test_short_logs_keep_both_streams_apart(drive: Drive) -> None:
    code = "import sys\nfor i in range(3):\n print(i, flush=True); print(-i, file=sys.stderr, flush=True)"
    result: JobResult = (await drive(python_run(code))).terminal.result
    assert (result.stdout, result.stderr) == ("0\n1\n2\n", "0\n-1\n-2\n")


async def test_a_blown_prepare_deadline_is_infrastructure_and_the_late_container_is_removed(
    drive: Drive, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The create call outlives the deadline; cleanup waits for it, then removes what it created.
    monkeypatch.setattr(job_container, "PREPARE_DEADLINE_S", 0.001)
    driven = await drive(python_run("pass"))
    assert driven.types == ["job.failed"]
    _failed(driven.terminal, "stage_timeout", FailureKind.INFRASTRUCTURE)


async def test_an_unreachable_engine_is_an_infrastructure_failure(owner: str) -> None:
    messages: list[Any] = []

    async def emit(message: Any) -> None:
        messages.append(message)

    run = python_run("pass")
    await executor_run_job(run=run, docker_url="tcp://127.0.0.1:9", emit=emit, cancel=asyncio.Event(), owner=owner)
    assert len(messages) == 1
    _failed(messages[0], "docker_error", FailureKind.INFRASTRUCTURE)


async def test_cancelling_the_task_still_removes_the_container(docker_client: Any, owner: str) -> None:
    started = asyncio.Event()

    async def emit(message: Any) -> None:
        if message.type == "job.started":
            started.set()

    run = python_run("import time; time.sleep(60)")
    task = asyncio.create_task(
        executor_run_job(run=run, docker_url="local", emit=emit, cancel=asyncio.Event(), owner=owner)
    )
    await asyncio.wait_for(started.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # Cleanup is shielded: it finishes shortly after the task is gone.
    for _ in range(100):
        if not docker_client.containers.list(all=True, filters={"label": f"meshwork.job={run.job_uuid}"}):
            break
        await asyncio.sleep(0.1)
    assert docker_client.containers.list(all=True, filters={"label": f"meshwork.job={run.job_uuid}"}) == []


async def test_concurrent_jobs_keep_their_inputs_and_outputs_apart(drive: Drive) -> None:
    code = "import time; time.sleep(0.5); open('/output/me', 'w').write(open('/volume/me').read())"
    runs = [python_run(code, input=ZipInput(zip_b64=b64(zip_bytes({"me": name})))) for name in ("one", "two")]
    first, second = await asyncio.gather(*(drive(run) for run in runs))
    assert unzip(first.terminal.result.output_zip_b64) == {"me": b"one"}
    assert unzip(second.terminal.result.output_zip_b64) == {"me": b"two"}
