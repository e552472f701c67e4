"""A rental's machine on the real engine, logged into with the real `ssh` client
(executor/runtime/rental_driver.py, rental_pod.py): only the user's key opens it; passwords,
other keys and root are refused; the class's limits are what the user sees inside; it reaches
neither this host nor private ranges; when ended, expired or dead, nothing of it is left."""

import asyncio
import contextlib
import socket
import subprocess
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import docker
import psutil
import pytest

from executor.runtime.driver import executor_run_job
from executor.runtime.names import LABEL_OWNER
from executor.runtime.rental_pod import pod_names
from protocol.messages.common import JobSpec, RentalSpec
from protocol.messages.executor import ExecutorLimits, ExecutorRun
from protocol.messages.jobs import JobFailed, JobProgress, SshEndpoint
from tests.ssh_login import Keys, keys_make
from tests.ssh_login import ssh as ssh_login

pytestmark = [pytest.mark.docker]
RENTAL_IMAGE = "meshwork/rental-ssh:1"


@dataclass
class Rental:
    run: ExecutorRun
    messages: list[JobProgress] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    cancel: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def ssh(self) -> SshEndpoint:
        endpoint = next(m.ssh for m in self.messages if m.type == "job.started")
        assert endpoint is not None
        return endpoint


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return keys_make(tmp_path_factory.mktemp("keys"))


@pytest.fixture(autouse=True)
def _rental_image(docker_client: docker.DockerClient, settings) -> None:
    try:
        docker_client.images.get(RENTAL_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.fail(f"rental tests need {RENTAL_IMAGE}: run `make images`")
    settings.MINER_RENTAL_BIND = "127.0.0.1"
    settings.MINER_RENTAL_HOST = "127.0.0.1"


def rental_run(
    keys: Keys, *, seconds: int = 120, memory_mb: int = 256, cpus: float = 0.5, pids: int = 64
) -> ExecutorRun:
    spec = JobSpec(
        image=RENTAL_IMAGE,
        executor_class="cpu.small",
        timeout_s=seconds,
        rental=RentalSpec(ssh_public_key=keys.good_public),
    )
    limits = ExecutorLimits(cpus=cpus, memory_mb=memory_mb, pids=pids, output_mb=8)
    return ExecutorRun(job_uuid=uuid.uuid4(), spec=spec, limits=limits)


@contextlib.asynccontextmanager
async def rented(run: ExecutorRun, owner: str) -> AsyncIterator[tuple[Rental, asyncio.Task[None]]]:
    rental = Rental(run=run)

    async def emit(message: JobProgress) -> None:
        rental.messages.append(message)
        if message.type == "job.started":
            rental.started.set()

    task = asyncio.ensure_future(
        executor_run_job(run=run, docker_url="local", emit=emit, cancel=rental.cancel, owner=owner)
    )
    try:
        await asyncio.wait(
            {task, asyncio.ensure_future(rental.started.wait())}, timeout=90, return_when="FIRST_COMPLETED"
        )
        assert rental.started.is_set(), f"the machine never came up: {[m.model_dump() for m in rental.messages]}"
        yield rental, task
    finally:
        rental.cancel.set()
        await asyncio.wait_for(task, 60)


def ssh(
    endpoint: SshEndpoint, *command: str, key: Path | None = None, user: str | None = None, password: bool = False
) -> subprocess.CompletedProcess[str]:
    return ssh_login(endpoint.host, endpoint.port, user or endpoint.user, *command, key=key, password=password)


def assert_gone(client: docker.DockerClient, run: ExecutorRun, owner: str) -> None:
    names = pod_names(job_uuid=run.job_uuid, owner=owner)
    left = [c.name for c in client.containers.list(all=True, filters={"label": f"{LABEL_OWNER}={owner}"})]
    networks = [n.name for n in client.networks.list(filters={"label": f"{LABEL_OWNER}={owner}"})]
    assert (left, networks) == ([], []), f"left behind of {names.machine}: {left} {networks}"


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP server on every address of this host: what a rental must not reach."""
    server = socket.create_server(("0.0.0.0", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                conn, _ = server.accept()
                conn.sendall(b"reached\n")
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


def host_addresses() -> list[str]:
    return sorted(
        {a.address for addrs in psutil.net_if_addrs().values() for a in addrs if a.family == socket.AF_INET}
        - {"127.0.0.1"}
    )


CONNECT = (
    "import socket,sys\nfor h in sys.argv[2:]:\n s=socket.socket(); s.settimeout(3)\n"
    " print(h, s.connect_ex((h,int(sys.argv[1]))))"
)


async def test_only_the_users_key_logs_in(drive_owner: str, keys: Keys) -> None:
    async with rented(rental_run(keys), drive_owner) as (rental, _):
        endpoint = rental.ssh
        good = await asyncio.to_thread(ssh, endpoint, "id -un; id -u", key=keys.good)
        other = await asyncio.to_thread(ssh, endpoint, "id", key=keys.other)
        root = await asyncio.to_thread(ssh, endpoint, "id", key=keys.good, user="root")
        password = await asyncio.to_thread(ssh, endpoint, "id", password=True)

    assert (good.returncode, good.stdout.split()) == (0, ["meshwork", "1000"]), good.stderr
    for refused in (other, root, password):
        assert refused.returncode == 255
        assert "Permission denied (publickey)" in refused.stderr


async def test_the_class_limits_are_what_the_user_sees(drive_owner: str, keys: Keys) -> None:
    script = (
        "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes;"
        "cat /sys/fs/cgroup/cpu.max 2>/dev/null ||"
        " echo $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us);"
        "cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max;"
        "touch /root-is-writable 2>/dev/null && echo writable-root || echo read-only-root;"
        "echo hello > ~/file && cat ~/file; grep -c CapEff /proc/self/status; grep CapEff /proc/self/status"
    )
    async with rented(rental_run(keys, memory_mb=300, cpus=0.5, pids=50), drive_owner) as (rental, _):
        seen = await asyncio.to_thread(ssh, rental.ssh, script, key=keys.good)

    assert seen.returncode == 0, seen.stderr
    lines = seen.stdout.split("\n")
    assert int(lines[0]) == 300 * 1024 * 1024
    quota, period = lines[1].split()
    assert int(quota) / int(period) == pytest.approx(0.5)
    assert lines[2] == "50"
    assert lines[3] == "read-only-root"
    assert lines[4] == "hello"
    assert lines[6].split()[1] == "0000000000000000"  # the user holds no capability at all


async def test_the_machine_reaches_neither_this_host_nor_private_ranges(
    drive_owner: str, keys: Keys, listener: int, docker_client: docker.DockerClient
) -> None:
    targets = [*host_addresses(), "10.255.255.1", "192.168.255.1", "169.254.169.254"]
    # The control: an ordinary container on Docker's bridge does reach the listener on this host.
    gateway = docker_client.networks.get("bridge").attrs["IPAM"]["Config"][0].get("Gateway", "172.17.0.1")
    control = docker_client.containers.run(
        "meshwork/job-python:3.11", ["python3", "-c", CONNECT, str(listener), gateway], remove=True
    ).decode()
    assert control.split() == [gateway, "0"]

    async with rented(rental_run(keys), drive_owner) as (rental, _):
        names = pod_names(job_uuid=rental.run.job_uuid, owner=drive_owner)
        fence = docker_client.api.inspect_container(names.fence)
        own_gateway = fence["NetworkSettings"]["Networks"][names.network]["Gateway"]
        probe = await asyncio.to_thread(
            ssh, rental.ssh, f"python3 -c '{CONNECT}' {listener} {own_gateway} {' '.join(targets)}", key=keys.good
        )
        published = fence
    assert probe.returncode == 0, probe.stderr
    results = dict(line.split() for line in probe.stdout.strip().splitlines())
    assert set(results) == {own_gateway, *targets}
    assert "0" not in results.values(), results  # every connection refused or timed out
    assert list(published["NetworkSettings"]["Ports"]) == ["2222/tcp"]  # the one published port


async def test_an_ended_rental_leaves_nothing(drive_owner: str, keys: Keys, docker_client: docker.DockerClient) -> None:
    async with rented(rental_run(keys), drive_owner) as (rental, task):
        port = rental.ssh.port
        await asyncio.sleep(1.0)
        rental.cancel.set()
        await asyncio.wait_for(task, 60)

    terminal = rental.messages[-1]
    assert terminal.type == "job.cancelled"
    assert terminal.result is not None
    assert terminal.result.executor_seconds >= 1.0
    assert_gone(docker_client, rental.run, drive_owner)
    with pytest.raises(ConnectionRefusedError):  # the port is closed: nothing listens there any more
        socket.create_connection(("127.0.0.1", port), timeout=3).close()


async def test_an_expired_rental_is_billed_its_time_and_removed(
    drive_owner: str, keys: Keys, docker_client: docker.DockerClient
) -> None:
    async with rented(rental_run(keys, seconds=6), drive_owner) as (rental, task):
        port = rental.ssh.port
        await asyncio.wait_for(task, 60)

    terminal = rental.messages[-1]
    assert isinstance(terminal, JobFailed)
    assert (terminal.failure.kind, terminal.failure.reason) == ("job", "timeout")
    assert terminal.result is not None
    assert terminal.result.executor_seconds == pytest.approx(6, abs=1.5)
    assert_gone(docker_client, rental.run, drive_owner)
    with pytest.raises(ConnectionRefusedError):  # the port is closed: nothing listens there any more
        socket.create_connection(("127.0.0.1", port), timeout=3).close()


async def test_a_machine_that_dies_is_the_miners_failure(
    drive_owner: str, keys: Keys, docker_client: docker.DockerClient
) -> None:
    async with rented(rental_run(keys), drive_owner) as (rental, task):
        docker_client.containers.get(pod_names(job_uuid=rental.run.job_uuid, owner=drive_owner).machine).kill()
        await asyncio.wait_for(task, 60)

    terminal = rental.messages[-1]
    assert isinstance(terminal, JobFailed)
    assert (terminal.failure.kind, terminal.failure.reason) == ("infrastructure", "rental_unreachable")
    assert_gone(docker_client, rental.run, drive_owner)


async def test_a_missing_image_fails_before_anything_is_made(
    drive_owner: str, keys: Keys, docker_client: docker.DockerClient
) -> None:
    run = rental_run(keys)
    run = run.model_copy(update={"spec": run.spec.model_copy(update={"image": "meshwork/no-such-rental:0"})})
    messages: list[JobProgress] = []

    async def emit(message: JobProgress) -> None:
        messages.append(message)

    await executor_run_job(run=run, docker_url="local", emit=emit, cancel=asyncio.Event(), owner=drive_owner)
    assert [m.type for m in messages] == ["job.failed"]
    assert isinstance(messages[0], JobFailed)
    assert messages[0].failure.reason == "image_missing"
    assert_gone(docker_client, run, drive_owner)


@pytest.fixture
def drive_owner(docker_client: docker.DockerClient, owner: str) -> Iterator[str]:
    yield owner
    assert_gone(docker_client, ExecutorRun.model_construct(job_uuid=uuid.uuid4()), owner)
