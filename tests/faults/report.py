"""A fault scenario's counts, read from the facilitator's own tables: what became of each job,
what it was charged, and whether the account's balance matches the ledger."""

from dataclasses import dataclass, field
from decimal import Decimal

import psycopg

from deploy.localnet.databases import admin_dsn

TERMINAL = {"completed", "failed", "timeout", "cancelled", "rejected"}
IN_FLIGHT = 20  # the floor for every scenario


def facilitator_dsn(database: str, *, port: int) -> str:
    return admin_dsn(port=port).replace("dbname=postgres", f"dbname={database}")


@dataclass
class FaultReport:
    scenario: str
    jobs: int = 0
    in_flight: int = 0  # of them not yet terminal when the fault hit
    terminal: int = 0
    lost: list[str] = field(default_factory=list)  # not terminal at the end, or unknown to the facilitator
    completed_twice: list[str] = field(default_factory=list)
    charged_twice: list[str] = field(default_factory=list)  # more than one settlement, or cost above its seconds
    charged_for_infrastructure: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    balance_off_by: Decimal = Decimal(0)

    @property
    def clean(self) -> bool:
        broken = self.lost or self.completed_twice or self.charged_twice or self.charged_for_infrastructure
        return not broken and self.balance_off_by == 0 and self.in_flight >= IN_FLIGHT

    def line(self) -> str:
        return (
            f"[{self.scenario}] jobs={self.jobs} in_flight_at_fault={self.in_flight} terminal={self.terminal} "
            f"lost={len(self.lost)} completed_twice={len(self.completed_twice)} "
            f"charged_twice={len(self.charged_twice)} "
            f"charged_for_infrastructure={len(self.charged_for_infrastructure)} "
            f"balance_off_by={self.balance_off_by} statuses={dict(sorted(self.statuses.items()))}"
        )


def account_balance(dsn: str) -> Decimal:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT COALESCE(SUM(balance), 0) FROM facilitator_creditaccount").fetchone()
    return Decimal(row[0]) if row else Decimal(0)


def fault_report(scenario: str, uuids: list[str], *, dsn: str, balance_before: Decimal, in_flight: int) -> FaultReport:
    """Counts from the facilitator's database what became of each job, and prints the counts."""
    report = FaultReport(scenario=scenario, jobs=len(uuids), in_flight=in_flight)
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
    report.balance_off_by = (balance_before - account_balance(dsn)) - charged_total
    print(report.line(), flush=True)
    return report
