"""Faults of the services under the nodes and of what runs beside them, each with 20 jobs in flight:
Redis restarted, Postgres restarted, a running job container killed with SIGKILL, a miner that
stalls mid-report (SIGSTOP past the validator's deadlines, then SIGCONT).

One network on a private Postgres and Redis (tests/faults/services.py): only those are restarted."""

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import docker
import httpx
import psycopg
import pytest

from deploy.localnet.databases import admin_dsn
from deploy.localnet.network import LocalNetwork, NetworkConfig
from deploy.localnet.processes import stop_all
from tests.faults.harness import account_balance, fault_report, settle, submit_batch, wait_running
from tests.faults.services import PrivatePostgres, PrivateRedis

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.docker]

# Deadlines small enough that a stalled miner is timed out within seconds, not minutes.
FAST_DEADLINES = {
    "VALIDATOR_STAGE_LEEWAY_S": "6",
    "VALIDATOR_RESERVE_TIMEOUT_S": "5",
    "LOG_LEVEL": "INFO",
}


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PrivatePostgres, PrivateRedis]]:
    root = Path(tmp_path_factory.mktemp("services"))
    postgres, redis = PrivatePostgres(), PrivateRedis(root / "redis")
    postgres.start()
    redis.start()
    try:
        yield postgres, redis
    finally:
        redis.stop()
        postgres.remove()


@pytest.fixture(scope="module")
def net(
    tmp_path_factory: pytest.TempPathFactory, services: tuple[PrivatePostgres, PrivateRedis]
) -> Iterator[LocalNetwork]:
    postgres, redis = services
    config = NetworkConfig(
        directory=Path(tmp_path_factory.mktemp("localnet")),
        validators=1,
        miners=3,
        executors=2,
        port_base=None,
        db_prefix=f"meshwork_faults_{os.environ.get('MESHWORK_TEST_ID', 'main')}",
        celery=True,  # the facilitator's beat re-dispatches what a fault left pending
        calibrate_runs=0,
        cycle_s=3600,  # no benchmark cycle during the scenarios
        postgres_port=postgres.port,
        redis_url=redis.url,
        extra_env=FAST_DEADLINES,
    )
    with _network(config) as network:
        yield network


@contextlib.contextmanager
def _network(config: NetworkConfig) -> Iterator[LocalNetwork]:
    """`running_network` without its sweep, which starts a Django process per miner (tens of
    seconds on a loaded machine): here only when a job container outlived the run."""
    net = LocalNetwork(config)
    try:
        net.prepare()
        net.start()
        net.wait_ready(timeout=150)
        yield net
    finally:
        stop_all(net.procs)
        miners = [n for n in net.nodes if n.role == "miner"]
        owners = {n.hotkey.ss58 for n in miners}
        containers = docker.from_env().containers.list(all=True, filters={"label": "meshwork.owner"})
        if any(c.labels.get("meshwork.owner") in owners for c in containers):
            net.sweep(miners)
        for proc in net.procs:
            print(f"---- {proc.name} (last lines)\n{proc.tail(15)}")


@pytest.fixture(scope="module")
def api(net: LocalNetwork) -> Iterator[httpx.Client]:
    creds = net.credentials
    headers = {"Authorization": f"Token {creds['api_token']}"}
    with httpx.Client(base_url=creds["facilitator_url"], headers=headers, timeout=30) as client:
        yield client


def _facilitator_db(net: LocalNetwork) -> str:
    return f"{net.config.db_prefix}_facilitator"


def _check(scenario: str, net: LocalNetwork, api: httpx.Client, uuids: list[str], before: Decimal) -> None:
    views = settle(api, uuids, timeout=120)
    report = fault_report(
        scenario, uuids, facilitator_db=_facilitator_db(net), balance_before=before, port=net.config.postgres_port
    )
    assert report.clean, (report.line(), {u: views.get(u, {}).get("status") for u in report.lost})


def test_redis_restarted_with_jobs_in_flight(
    net: LocalNetwork, api: httpx.Client, services: tuple[PrivatePostgres, PrivateRedis]
) -> None:
    _, redis = services
    before = account_balance(_facilitator_db(net), port=net.config.postgres_port)
    uuids = submit_batch(api, tag="redis-restart", seconds=2.0)
    wait_running(api, uuids, at_least=3)
    redis.stop()
    time.sleep(3)
    redis.start()
    _check("redis restarted", net, api, uuids, before)


def test_postgres_restarted_with_jobs_in_flight(
    net: LocalNetwork, api: httpx.Client, services: tuple[PrivatePostgres, PrivateRedis]
) -> None:
    postgres, _ = services
    before = account_balance(_facilitator_db(net), port=net.config.postgres_port)
    uuids = submit_batch(api, tag="postgres-restart", seconds=2.0)
    wait_running(api, uuids, at_least=3)
    postgres.stop("fast")
    time.sleep(3)
    postgres.start()
    _check("postgres restarted", net, api, uuids, before)


def test_job_container_killed_is_an_infrastructure_failure(net: LocalNetwork, api: httpx.Client) -> None:
    before = account_balance(_facilitator_db(net), port=net.config.postgres_port)
    uuids = submit_batch(api, tag="container-kill", seconds=3.0)
    wait_running(api, uuids, at_least=3)
    client = docker.from_env()
    killed: list[str] = []
    deadline = time.monotonic() + 30
    while len(killed) < 3 and time.monotonic() < deadline:
        for container in client.containers.list(filters={"label": "meshwork.job"}):
            job = container.labels.get("meshwork.job", "")
            if job in uuids and job not in killed and container.status == "running":
                container.kill(signal="SIGKILL")
                killed.append(job)
                break
        time.sleep(0.2)
    assert killed, "no running job container to kill"
    _check("job container killed", net, api, uuids, before)
    with httpx.Client(base_url=api.base_url, headers=api.headers, timeout=30) as fresh:
        for uuid in killed:
            job = fresh.get(f"/api/v1/jobs/{uuid}/").json()
            # Retried elsewhere (completed, billed once for the run that finished), or failed unbilled.
            failure = job.get("failure") or {}
            assert job["status"] == "completed" or failure.get("kind") == "infrastructure", job


def test_miner_stalled_mid_report_is_timed_out_and_ignored(net: LocalNetwork, api: httpx.Client) -> None:
    before = account_balance(_facilitator_db(net), port=net.config.postgres_port)
    # A 5 s job deadline: the validator gives up on a silent miner after 5 + 6 s (leeway).
    uuids = submit_batch(api, tag="miner-stall", seconds=2.0, timeout_s=5)
    miner = net.node("miner1")
    stalled = _running_on(net, uuids, miner.hotkey.ss58)
    pids = [p.popen.pid for p in miner.procs if p.popen is not None and p.alive]
    for pid in pids:
        os.killpg(pid, signal.SIGSTOP)
    stopped_at = datetime.now(UTC)
    try:
        time.sleep(15)  # past the run stage's deadline: the validator reroutes the stalled jobs
    finally:
        for pid in pids:
            os.killpg(pid, signal.SIGCONT)  # it wakes and reports runs nobody waits for any more
    _check("miner stalled", net, api, uuids, before)
    assert stalled, "miner1 ran none of the jobs"
    rerouted = 0
    for uuid in stalled:
        job = api.get(f"/api/v1/jobs/{uuid}/").json()
        if job["miner_hotkey"] == miner.hotkey.ss58:
            # Only a report sent before the stall may stand: none that came after it woke up.
            assert datetime.fromisoformat(job["finished_at"]) < stopped_at + timedelta(seconds=2), job
        else:
            rerouted += 1
    assert rerouted, f"none of the {len(stalled)} jobs stalled on miner1 was rerouted"


def _running_on(net: LocalNetwork, uuids: list[str], hotkey: str, timeout: float = 60) -> list[str]:
    """Waits until the miner `hotkey` runs some of the jobs; returns those (one query, so the
    answer is fresh when the miner is stopped right after)."""
    dsn = admin_dsn(port=net.config.postgres_port).replace("dbname=postgres", f"dbname={_facilitator_db(net)}")
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            rows = conn.execute(
                "SELECT uuid::text FROM facilitator_job WHERE status = 'running' AND miner_hotkey = %s"
                " AND uuid::text = ANY(%s)",
                (hotkey, uuids),
            ).fetchall()
            if rows:
                return [str(r[0]) for r in rows]
            time.sleep(0.1)
    return []
