"""How `status`, `classes`, `objects` and `history` print: a plain two-column summary and tables."""

from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from client.cli.progress import status_line
from client.sdk import ExecutorClass, Job
from client.sdk.models import LedgerEntry, StoredObject


def job_print(job: Job, console: Console) -> None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    rows = [
        ("uuid", str(job.uuid)),
        ("status", job.status + (f" ({job.failure.kind}: {job.failure.reason})" if job.failure else "")),
        ("exit code", "" if job.exit_code is None else str(job.exit_code)),
        ("image", " ".join([job.image, *job.args])),
        ("class", job.executor_class),
        ("tag", job.tag),
        ("miner", job.miner_hotkey),
        ("validator", job.validator_hotkey),
        ("cost", "" if job.cost is None else str(job.cost)),
        ("created", job.created_at.isoformat()),
        ("started", job.started_at.isoformat() if job.started_at else ""),
        ("finished", job.finished_at.isoformat() if job.finished_at else ""),
        ("output", job.output_url or ""),
    ]
    if job.failure and job.failure.detail:
        rows.insert(2, ("failure", job.failure.detail))
    for name, value in rows:
        if value:
            grid.add_row(name, escape(value))
    console.print(grid, highlight=False)
    for event in job.status_history:
        console.print("  " + status_line(event), highlight=False, soft_wrap=True)


def classes_print(classes: Iterable[ExecutorClass], console: Console) -> None:
    table = Table("name", "cpus", "memory", "gpu", "price / s", "willing", "description", box=None, header_style="bold")
    for cls in classes:
        gpu = f"{cls.gpu_count} × {cls.gpu_model or 'GPU'}" if cls.gpu else "-"
        table.add_row(
            escape(cls.name),
            f"{cls.cpus:g}",
            f"{cls.memory_mb} MB",
            escape(gpu),
            str(cls.price_per_second),
            "?" if cls.willing_executors is None else f"{cls.willing_executors} ({cls.willing_miners} miners)",
            escape(cls.description),
        )
    console.print(table, highlight=False)


def objects_print(found: Iterable[StoredObject], console: Console) -> None:
    table = Table("id", "name", "size", "shares", "verified", box=None, header_style="bold")
    for obj in found:
        health = obj.health
        shares = f"{health.shares}/{health.placed} (needs {health.needed})"
        verified = health.verified_at.isoformat(timespec="seconds") if health.verified_at else ""
        table.add_row(str(obj.id), escape(obj.name), str(obj.size), shares, verified)
    console.print(table)


def ledger_print(entries: Iterable[LedgerEntry], console: Console) -> None:
    """Credits added show as +, charges as − (a refund, a negative charge, as +)."""
    table = Table("when", "kind", "amount", "balance", "job", "note", box=None, header_style="bold")
    for entry in entries:
        added = entry.kind in ("grant", "topup")
        change = entry.amount if added else -entry.amount
        table.add_row(
            entry.created_at.isoformat(timespec="seconds"),
            escape(entry.kind),
            f"{change:+f}",
            f"{entry.balance_after:f}",
            str(entry.job) if entry.job else "",
            escape(entry.note),
        )
    console.print(table, highlight=False)
