"""What every fault scenario does: put jobs in flight, break something, then count what the network
did with each job from the facilitator's own tables (not from what its API chooses to show).

A scenario passes only when its report is clean: every job terminal, none lost, none completed
twice, none charged twice, none charged for an infrastructure failure, and the account's balance
equal to the sum of what its jobs cost."""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import psycopg

from deploy.localnet.databases import admin_dsn

JOB_IMAGE = "meshwork/job-python:3.11"
TERMINAL = {"completed", "failed", "timeout", "cancelled", "rejected"}
IN_FLIGHT = 20  # the floor for every scenario


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


def wait_running(api: httpx.Client, uuids: list[str], *, at_least: int, timeout: float = 60) -> int:
    """Waits until `at_least` of the jobs are running (so the fault hits work in flight)."""
    deadline = time.monotonic() + timeout
    running = 0
    while time.monotonic() < deadline:
        running = sum(1 for u in uuids if _status(api, u) == "running")
        if running >= at_least:
            return running
        time.sleep(0.2)
    raise AssertionError(f"only {running} of {len(uuids)} jobs running after {timeout}s")


def settle(api: httpx.Client, uuids: list[str], *, timeout: float = 180) -> dict[str, dict[str, Any]]:
    """Polls until every job is terminal or `timeout` passes; returns the last view of each."""
    deadline = time.monotonic() + timeout
    last: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        for uuid in uuids:
            if last.get(uuid, {}).get("status") in TERMINAL:
                continue
            try:
                response = api.get(f"/api/v1/jobs/{uuid}/", timeout=10)
            except httpx.HTTPError:
                continue  # the facilitator itself may be down for this scenario
            if response.status_code == 200:
                last[uuid] = dict(response.json())
        if all(last.get(u, {}).get("status") in TERMINAL for u in uuids):
            break
        time.sleep(0.5)
    return last


@dataclass
class FaultReport:
    scenario: str
    jobs: int = 0
    terminal: int = 0
    lost: list[str] = field(default_factory=list)  # not terminal at the end, or unknown to the facilitator
    completed_twice: list[str] = field(default_factory=list)
    charged_twice: list[str] = field(default_factory=list)  # more than one settlement, or cost above its seconds
    charged_for_infrastructure: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    balance_off_by: Decimal = Decimal(0)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.completed_twice or self.charged_twice or self.charged_for_infrastructure) and (
            self.balance_off_by == 0
        )

    def line(self) -> str:
        return (
            f"[{self.scenario}] jobs={self.jobs} terminal={self.terminal} lost={len(self.lost)} "
            f"completed_twice={len(self.completed_twice)} charged_twice={len(self.charged_twice)} "
            f"charged_for_infrastructure={len(self.charged_for_infrastructure)} "
            f"balance_off_by={self.balance_off_by} statuses={dict(sorted(self.statuses.items()))}"
        )


def account_balance(facilitator_db: str, *, host: str = "127.0.0.1", port: int = 5432) -> Decimal:
    with psycopg.connect(admin_dsn(host, port).replace("dbname=postgres", f"dbname={facilitator_db}")) as conn:
        row = conn.execute("SELECT COALESCE(SUM(balance), 0) FROM facilitator_creditaccount").fetchone()
    return Decimal(row[0]) if row else Decimal(0)


def fault_report(
    scenario: str,
    uuids: list[str],
    *,
    facilitator_db: str,
    balance_before: Decimal,
    host: str = "127.0.0.1",
    port: int = 5432,
) -> FaultReport:
    """Counts from the facilitator's database what became of each job, and prints the counts."""
    report = FaultReport(scenario=scenario, jobs=len(uuids))
    dsn = admin_dsn(host, port).replace("dbname=postgres", f"dbname={facilitator_db}")
    with psycopg.connect(dsn) as conn:
        jobs = {
            str(r[0]): r[1:]
            for r in conn.execute(
                "SELECT uuid, status, failure_kind, cost, executor_seconds, price_per_second"
                " FROM facilitator_job WHERE uuid::text = ANY(%s)",
                (uuids,),
            )
        }
        completions: dict[str, int] = dict(
            conn.execute(
                "SELECT job_id::text, COUNT(*) FROM facilitator_jobstatusevent"
                " WHERE status = 'completed' AND job_id::text = ANY(%s) GROUP BY job_id",
                (uuids,),
            ).fetchall()
        )
        ledger = {
            str(r[0]): (Decimal(r[1]), int(r[2]))
            for r in conn.execute(
                "SELECT job_id, COALESCE(SUM(amount), 0), COUNT(*) FILTER (WHERE kind = 'charge')"
                " FROM facilitator_credittransaction WHERE job_id::text = ANY(%s) GROUP BY job_id",
                (uuids,),
            )
        }
    charged_total = Decimal(0)
    for uuid in uuids:
        if uuid not in jobs or jobs[uuid][0] not in TERMINAL:
            report.lost.append(uuid)
            continue
        status, failure_kind, cost, seconds, price = jobs[uuid]
        report.terminal += 1
        report.statuses[status] = report.statuses.get(status, 0) + 1
        if completions.get(uuid, 0) > 1:
            report.completed_twice.append(uuid)
        charged, settlements = ledger.get(uuid, (Decimal(0), 0))
        charged_total += charged
        ceiling = Decimal(str(seconds or 0)) * Decimal(price) + Decimal("0.000002")
        if settlements > 1 or charged > ceiling or (cost is not None and charged != Decimal(cost)):
            report.charged_twice.append(uuid)
        if failure_kind == "infrastructure" and charged != 0:
            report.charged_for_infrastructure.append(uuid)
    after = account_balance(facilitator_db, host=host, port=port)
    report.balance_off_by = (balance_before - after) - charged_total
    print(report.line(), flush=True)
    return report


def _status(api: httpx.Client, uuid: str) -> str:
    try:
        return str(api.get(f"/api/v1/jobs/{uuid}/", timeout=10).json()["status"])
    except (httpx.HTTPError, KeyError, ValueError):
        return "unknown"
