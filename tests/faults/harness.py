"""What every fault scenario does (`Faults.scenario`): put 20 jobs in flight, break something,
wait for every job to end, then count what the network did with each job from the facilitator's
own tables (not from what its API chooses to show) and assert the counts are clean.

A scenario passes only when its report is clean: all its jobs were in flight when the fault hit,
every job is terminal, none lost, none completed twice, none charged twice, none charged for an
infrastructure failure, and the account's balance equals the sum of what its jobs cost."""

import time
import uuid as uuidlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import psycopg

from deploy.localnet.network import LocalNetwork
from tests.faults.report import IN_FLIGHT, TERMINAL, FaultReport, account_balance, facilitator_dsn, fault_report

JOB_IMAGE = "meshwork/job-python:3.11"
_PHASES = ("submitted and running", "fault", "settled")


def sleeper(seconds: float, marker: str) -> list[str]:
    """A job that sleeps, then prints a marker the test can check came back exactly once."""
    return ["python3", "-c", f"import time; time.sleep({seconds}); print({marker!r})"]


def submit_batch(
    api: httpx.Client, count: int = IN_FLIGHT, *, seconds: float = 2.0, tag: str, timeout_s: int = 60
) -> list[str]:
    """Submits `count` jobs at once (10 clients in parallel); returns their uuids in order."""

    def one(i: int) -> str:
        body = {"image": JOB_IMAGE, "args": sleeper(seconds, f"{tag}-{i}"), "timeout_s": timeout_s, "tag": tag}
        response = api.post("/api/v1/jobs/", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["uuid"])

    with ThreadPoolExecutor(max_workers=10) as pool:
        return list(pool.map(one, range(count)))


@dataclass
class Batch:
    """One scenario's jobs: what the fault callback gets, and what the test checks afterwards."""

    tag: str
    uuids: list[str]
    views: dict[str, dict[str, Any]] = field(default_factory=dict)  # the API's view of each, once settled
    report: FaultReport | None = None

    def assert_each_printed_once(self) -> None:
        for i, job_uuid in enumerate(self.uuids):
            assert self.views[job_uuid]["stdout"] == f"{self.tag}-{i}\n", self.views[job_uuid]


@dataclass
class Faults:
    """The fault network and its API, with the one shape every scenario has."""

    net: LocalNetwork
    api: httpx.Client

    @property
    def dsn(self) -> str:
        return facilitator_dsn(f"{self.net.config.db_prefix}_facilitator", port=self.net.config.postgres_port)

    def query(self, query: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            return list(conn.execute(query, params).fetchall())

    def statuses(self, uuids: list[str]) -> dict[str, str]:
        rows = self.query("SELECT uuid::text, status FROM facilitator_job WHERE uuid::text = ANY(%s)", (uuids,))
        return {str(u): str(s) for u, s in rows}

    def jobs_in_flight(self, uuids: list[str] | None = None) -> int:
        """Jobs not yet terminal (of `uuids`, or all of them)."""
        query = "SELECT COUNT(*) FROM facilitator_job WHERE NOT status = ANY(%s)"
        if uuids is None:
            return int(self.query(query, (list(TERMINAL),))[0][0])
        return int(self.query(query + " AND uuid::text = ANY(%s)", (list(TERMINAL), uuids))[0][0])

    def scenario(
        self,
        name: str,
        fault: Callable[[Batch], None],
        *,
        seconds: float = 3.0,
        timeout_s: int = 60,
        running: int = 6,
        settle_timeout: float = 150,
    ) -> Batch:
        """Submit 20 jobs → wait until `running` of them run (fewer on a slow start) → `fault` →
        wait for every job to end → report → assert it clean. Returns the batch for the scenario's
        own checks."""
        before = account_balance(self.dsn)
        tag = f"{name.replace(' ', '-')}-{uuidlib.uuid4().hex[:6]}"
        phases = [time.monotonic()]  # printed: where a scenario's time goes
        batch = Batch(tag=tag, uuids=submit_batch(self.api, seconds=seconds, tag=tag, timeout_s=timeout_s))
        self.wait_running(batch.uuids, at_least=running, seconds=seconds)
        in_flight = self.jobs_in_flight(batch.uuids)
        phases.append(time.monotonic())
        fault(batch)
        phases.append(time.monotonic())
        self.settle(batch.uuids, timeout=settle_timeout)
        phases.append(time.monotonic())
        spans = ", ".join(f"{label} {b - a:.1f}s" for label, a, b in zip(_PHASES, phases, phases[1:], strict=False))
        print(f"[{name}] {spans}", flush=True)
        batch.views = self.views(batch.uuids)
        batch.report = fault_report(name, batch.uuids, dsn=self.dsn, balance_before=before, in_flight=in_flight)
        lost = {u: batch.views.get(u, {}).get("status") for u in batch.report.lost}
        assert batch.report.clean, (batch.report.line(), lost)
        return batch

    def wait_running(self, uuids: list[str], *, at_least: int, seconds: float, timeout: float = 120) -> int:
        """Waits until `at_least` of the jobs run, or the first to start has run half of its
        `seconds` (on a loaded machine the others may start so slowly that the first would end
        before the fault: every job must still be in flight when it hits)."""
        query = (
            "SELECT COUNT(*), COALESCE(EXTRACT(EPOCH FROM now() - MIN(started_at)), 0) FROM facilitator_job"
            " WHERE status = 'running' AND uuid::text = ANY(%s)"
        )
        deadline = time.monotonic() + timeout
        running = 0
        while time.monotonic() < deadline:
            count, oldest = self.query(query, (uuids,))[0]
            running = int(count)
            if running >= at_least or (running and float(oldest) >= seconds / 2):
                return running
            time.sleep(0.1)
        raise AssertionError(f"only {running} of {len(uuids)} jobs running after {timeout}s")

    def settle(self, uuids: list[str], *, timeout: float) -> None:
        """Waits until every job is terminal or `timeout` passes (one query a poll, straight from
        the facilitator's database, which a scenario may be restarting)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.jobs_in_flight(uuids) == 0:
                    return
            except psycopg.OperationalError:
                pass  # Postgres itself may be down for this scenario
            time.sleep(0.2)

    def views(self, uuids: list[str]) -> dict[str, dict[str, Any]]:
        """What the API shows of each job (output, history); a job it cannot show is left out."""

        def one(job_uuid: str) -> tuple[str, dict[str, Any] | None]:
            for _ in range(3):
                try:
                    response = self.api.get(f"/api/v1/jobs/{job_uuid}/", timeout=10)
                except httpx.HTTPError:
                    time.sleep(0.5)
                    continue
                if response.status_code == 200:
                    return job_uuid, dict(response.json())
            return job_uuid, None

        with ThreadPoolExecutor(max_workers=10) as pool:
            return {u: view for u, view in pool.map(one, uuids) if view is not None}

    def balance(self) -> Decimal:
        return account_balance(self.dsn)
