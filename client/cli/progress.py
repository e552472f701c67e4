"""The live display of `submit --wait`: a spinner with the job's current status and elapsed
time, and one line per status change (its history) as the long-polls bring them."""

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from client.sdk import Job, MeshworkClient, StatusEvent

STATUS_STYLES = {
    "completed": "green",
    "failed": "red",
    "timeout": "red",
    "rejected": "red",
    "cancelled": "yellow",
    "running": "cyan",
}


def job_follow(client: MeshworkClient, job: Job, *, console: Console, window_s: float = 2.0) -> Job:
    """Shows the job's progress on `console` until it ends; returns it as it ended."""
    shown = 0
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    # Off a terminal (a log, a pipe) only the status lines are written: no spinner frames.
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task(_description(job), total=None)
        for snapshot in client.follow(job.uuid, window_s=window_s):
            for event in snapshot.status_history[shown:]:
                progress.console.print(status_line(event), highlight=False, soft_wrap=True)
            shown = len(snapshot.status_history)
            progress.update(task, description=_description(snapshot))
            job = snapshot
    return job


def status_line(event: StatusEvent) -> str:
    style = STATUS_STYLES.get(event.status, "bold")
    detail = f"  {escape(event.detail)}" if event.detail else ""
    return f"{event.at:%H:%M:%S} [{style}]{event.status:<10}[/{style}]{detail}"


def _description(job: Job) -> str:
    return f"job {job.uuid} [bold]{job.status}[/bold]"
