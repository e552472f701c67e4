"""One real network for every fault scenario (test_process_deaths.py, test_services.py): every node
a real process on a private Postgres and Redis (services.py), so a scenario may restart those
without touching anyone else's, and on the machine's Docker. It starts once for the whole suite.
Each scenario breaks something and the next one starts from a healthy network (`healthy` revives
what is down and waits for it)."""

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import httpx
import pytest

from deploy.localnet.network import LocalNetwork, NetworkConfig
from deploy.localnet.processes import stop_all
from tests.e2e.conftest import _require_docker
from tests.faults.harness import Faults
from tests.faults.services import PrivatePostgres, PrivateRedis

# Deadlines short enough that a silent or stalled peer is given up in seconds, still long enough
# for twenty containers starting at once on a loaded machine.
FAULT_ENV = {
    "VALIDATOR_STAGE_LEEWAY_S": "10",
    "VALIDATOR_RESERVE_TIMEOUT_S": "5",
    # On a loaded machine a slow container start can miss a deadline before the fault adds its own
    # failure: more tries than production's 3, so a scenario tests recovery, not the machine.
    "VALIDATOR_MAX_ATTEMPTS": "5",
    # An interval charge every 2 s, so a job killed mid-run has charges its retry must refund.
    "VALIDATOR_RECEIPT_INTERVAL_S": "2",
    # Storage on three miners (tests/faults/test_storage.py): each object 1-of-2, so one miner
    # killed leaves it readable and a third miner to rebuild its share on; one failed audit loses it.
    "STORAGE_K": "1",
    "STORAGE_N": "2",
    "STORAGE_REPAIR_AFTER_FAILURES": "1",
    "STORAGE_AUDIT_DEADLINE_S": "5",
    "LOG_LEVEL": "INFO",
}


@pytest.fixture(scope="package")
def services() -> Iterator[tuple[PrivatePostgres, PrivateRedis]]:
    postgres = PrivatePostgres()
    redis = PrivateRedis(postgres.directory / "redis")
    postgres.start()
    redis.start()
    try:
        yield postgres, redis
    finally:
        redis.stop()
        postgres.remove()


@pytest.fixture(scope="package")
def fault_network(services: tuple[PrivatePostgres, PrivateRedis]) -> Iterator[LocalNetwork]:
    _require_docker()
    postgres, redis = services
    # Not under pytest's basetemp: other runs prune it, and the logs are what explains a failure.
    directory = Path(tempfile.gettempdir()) / f"meshwork-faults-{os.environ.get('MESHWORK_TEST_ID', 'main')}"
    shutil.rmtree(directory, ignore_errors=True)
    config = NetworkConfig(
        directory=directory,
        validators=1,
        miners=3,
        executors=7,  # 21 executors: a scenario's 20 jobs run in one wave
        port_base=None,
        db_prefix=f"meshwork_faults_{os.environ.get('MESHWORK_TEST_ID', 'main')}",
        celery=True,  # the facilitator's beat re-dispatches what a fault left pending
        celery_roles=frozenset({"facilitator"}),  # the others' workers do no job work: fewer processes
        calibrate_runs=0,
        cycle_s=3600,  # no benchmark cycle during the scenarios
        postgres_port=postgres.port,
        redis_url=redis.url,
        extra_env=FAULT_ENV,
    )
    with _network(config) as net:
        yield net


@contextlib.contextmanager
def _network(config: NetworkConfig) -> Iterator[LocalNetwork]:
    """`running_network` without its sweep, which starts a Django process per miner (seconds on a
    loaded machine): here only when a job container outlived the miners' own clean-up."""
    net = LocalNetwork(config)
    try:
        net.prepare()
        net.start()
        net.wait_ready(timeout=150)
        yield net
    finally:
        miners = [n for n in net.nodes if n.role == "miner"]
        owners = {n.hotkey.ss58 for n in miners}
        deadline = time.monotonic() + 10
        while _leftovers(owners) and time.monotonic() < deadline:  # running miners remove their own
            time.sleep(0.2)
        stop_all(net.procs, timeout=2)  # no job runs by now: a quicker SIGKILL loses nothing
        if _leftovers(owners):
            net.sweep(miners)
        for proc in net.procs:
            print(f"---- {proc.name} (last lines)\n{proc.tail(15)}")


def _leftovers(owners: set[str]) -> bool:
    """Job containers of these miners still exist (sparse: no inspect of one that may be gone)."""
    containers = docker.from_env().containers.list(all=True, filters={"label": "meshwork.owner"}, sparse=True)
    return any(c.attrs.get("Labels", {}).get("meshwork.owner") in owners for c in containers)


@pytest.fixture(scope="package")
def fault_api(fault_network: LocalNetwork) -> Iterator[httpx.Client]:
    creds = fault_network.credentials
    headers = {"Authorization": f"Token {creds['api_token']}"}
    with httpx.Client(base_url=creds["facilitator_url"], headers=headers, timeout=30) as client:
        yield client


@pytest.fixture
def faults(fault_network: LocalNetwork, fault_api: httpx.Client) -> Faults:
    """The network with every process running, every node ready again and no job in flight (so
    one scenario's stragglers never move the next one's balance)."""
    for node in fault_network.nodes:
        fault_network.revive(node.name)
    fault_network.wait_ready(timeout=120)
    faults = Faults(net=fault_network, api=fault_api)
    deadline = time.monotonic() + 120
    while (left := faults.jobs_in_flight()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"{left} jobs of an earlier scenario still in flight"
    return faults


@pytest.fixture
def postgres(services: tuple[PrivatePostgres, PrivateRedis]) -> PrivatePostgres:
    return services[0]


@pytest.fixture
def redis(services: tuple[PrivatePostgres, PrivateRedis]) -> PrivateRedis:
    return services[1]
