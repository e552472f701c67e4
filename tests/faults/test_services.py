"""Faults of the services under the nodes and of what runs beside them, each with 20 jobs in flight:
Redis restarted, Postgres restarted, a running job container killed with SIGKILL, a miner that
stalls mid-report (SIGSTOP past the validator's deadlines, then SIGCONT).

The network runs on a private Postgres and Redis (conftest.py, services.py): only those are
restarted."""

import os
import signal
import time
from datetime import UTC, datetime, timedelta

import docker
import pytest

from tests.faults.harness import Batch, Faults
from tests.faults.report import TERMINAL
from tests.faults.services import PrivatePostgres, PrivateRedis

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.docker]

OUTAGE_S = 1  # long enough that every client's first reconnect fails


def test_redis_restarted_with_jobs_in_flight(faults: Faults, redis: PrivateRedis) -> None:
    def fault(batch: Batch) -> None:
        redis.stop()
        time.sleep(OUTAGE_S)
        redis.start()

    faults.scenario("redis restarted", fault, running=3)


def test_postgres_restarted_with_jobs_in_flight(faults: Faults, postgres: PrivatePostgres) -> None:
    def fault(batch: Batch) -> None:
        postgres.stop("fast")
        time.sleep(OUTAGE_S)
        postgres.start()

    faults.scenario("postgres restarted", fault, running=3)


def test_job_container_killed_is_an_infrastructure_failure(faults: Faults) -> None:
    killed: list[str] = []

    def fault(batch: Batch) -> None:
        client = docker.from_env()
        deadline = time.monotonic() + 30
        while len(killed) < 3 and time.monotonic() < deadline:
            # Sparse: the list call alone, no inspect of each container (one may be gone by then).
            for container in client.containers.list(filters={"label": "meshwork.job"}, sparse=True):
                job = container.attrs.get("Labels", {}).get("meshwork.job", "")
                if job in batch.uuids and job not in killed and container.attrs.get("State") == "running":
                    try:
                        container.kill(signal="SIGKILL")
                    except docker.errors.APIError:
                        continue  # it ended (or was removed) since the list: try another
                    killed.append(job)
                    break
            time.sleep(0.2)

    batch = faults.scenario("job container killed", fault, running=3)
    assert killed, "no running job container to kill"
    for job_uuid in killed:
        job = batch.views[job_uuid]
        # Retried elsewhere (completed, billed once for the run that finished), or failed unbilled.
        failure = job.get("failure") or {}
        assert job["status"] == "completed" or failure.get("kind") == "infrastructure", job


def test_miner_stalled_mid_report_is_timed_out_and_ignored(faults: Faults) -> None:
    miner = faults.net.node("miner1")
    stalled: list[str] = []
    stopped_at = datetime.now(UTC)

    def fault(batch: Batch) -> None:
        nonlocal stopped_at
        stalled.extend(_running_on(faults, batch.uuids, miner.hotkey.ss58))
        pids = [p.popen.pid for p in miner.procs if p.popen is not None and p.alive]
        for pid in pids:
            os.killpg(pid, signal.SIGSTOP)
        stopped_at = datetime.now(UTC)
        try:  # past the run stage's deadline, until the validator has rerouted every stalled job
            _wait_rerouted(faults, stalled, miner.hotkey.ss58)
        finally:
            for pid in pids:
                os.killpg(pid, signal.SIGCONT)  # it wakes and reports runs nobody waits for any more

    # A 5 s job deadline: the validator gives up on a silent miner after 5 s + the stage leeway.
    batch = faults.scenario("miner stalled", fault, seconds=2.0, timeout_s=5, running=3)
    assert stalled, "miner1 ran none of the jobs"
    rerouted = 0
    for job_uuid in stalled:
        job = batch.views[job_uuid]
        if job["miner_hotkey"] == miner.hotkey.ss58:
            # Only a report sent before the stall may stand: none that came after it woke up.
            assert datetime.fromisoformat(job["finished_at"]) < stopped_at + timedelta(seconds=2), job
        else:
            rerouted += 1
    assert rerouted, f"none of the {len(stalled)} jobs stalled on miner1 was rerouted"


def _running_on(faults: Faults, uuids: list[str], hotkey: str, timeout: float = 60) -> list[str]:
    """Waits until the miner `hotkey` runs some of the jobs; returns those (one query, so the
    answer is fresh when the miner is stopped right after)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = faults.query(
            "SELECT uuid::text FROM facilitator_job WHERE status = 'running' AND miner_hotkey = %s"
            " AND uuid::text = ANY(%s)",
            (hotkey, uuids),
        )
        if rows:
            return [str(r[0]) for r in rows]
        time.sleep(0.1)
    return []


def _wait_rerouted(faults: Faults, uuids: list[str], hotkey: str, timeout: float = 60) -> None:
    """Until each job has ended (before the stall) or been given up on the stalled miner."""
    query = (
        "SELECT COUNT(*) FROM facilitator_job j WHERE j.uuid::text = ANY(%s) AND NOT j.status = ANY(%s)"
        " AND NOT EXISTS (SELECT 1 FROM facilitator_jobstatusevent e WHERE e.job_id = j.uuid AND e.detail LIKE %s)"
    )
    deadline = time.monotonic() + timeout
    while faults.query(query, (uuids, list(TERMINAL), f"infrastructure failure on miner {hotkey}%"))[0][0]:
        if time.monotonic() > deadline:
            return  # the checks after the scenario say what was not rerouted
        time.sleep(0.2)
