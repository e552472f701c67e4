"""`meshwork rent`, `rentals`, `rent-end` (docs/rentals.md): rent a machine, see yours, end one.
`rent` waits until the machine answers and prints the `ssh` command to reach it."""

import re
import time
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from client.cli.errors import CliError
from client.sdk import MeshworkClient, Rental

DEFAULT_KEYS = ("id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
POLL_S = 1.0


def duration_parse(text: str) -> int:
    """`90`, `90s`, `30m`, `2h`, `7d` → seconds."""
    match = re.fullmatch(r"\s*(\d{1,8})\s*([smhd]?)\s*", text)
    if match is None:
        raise CliError(
            f"--duration {text!r}: expected a number with an optional unit s, m, h or d (e.g. 2h)", usage=True
        )
    return int(match[1]) * UNITS[match[2] or "s"]


def public_key_read(path: Path | None) -> str:
    candidates = [path] if path is not None else [Path.home() / ".ssh" / name for name in DEFAULT_KEYS]
    for candidate in candidates:
        try:
            return candidate.read_text().strip()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise CliError(f"cannot read {candidate}: {exc.strerror or exc}") from exc
    if path is not None:
        raise CliError(f"no such key file: {path}", usage=True)
    raise CliError("no SSH public key in ~/.ssh (give --key FILE.pub; `ssh-keygen -t ed25519` makes one)", usage=True)


def rent_and_wait(client: MeshworkClient, *, executor_class: str, duration_s: int, key: str, wait_s: float) -> Rental:
    rental = client.rent(executor_class=executor_class, duration_s=duration_s, ssh_public_key=key)
    typer.echo(f"{rental.uuid} pending", err=True)
    deadline = time.monotonic() + wait_s
    seen = len(rental.status_history)
    while rental.ssh is None and not rental.settled and time.monotonic() < deadline:
        time.sleep(POLL_S)
        rental = client.rental(rental.uuid)
        for event in rental.status_history[seen:]:
            typer.echo(f"  {event.at:%H:%M:%S} {event.status:<8} {event.detail}", err=True)
        seen = len(rental.status_history)
    return rental


def rentals_print(rentals: list[Rental], console: Console) -> None:
    table = Table("uuid", "status", "class", "login", "expires", "cost", box=None, header_style="bold")
    for rental in rentals:
        table.add_row(
            str(rental.uuid),
            rental.status,
            escape(rental.executor_class),
            escape(rental.ssh.command) if rental.ssh else "",
            rental.expires_at.isoformat(timespec="seconds") if rental.expires_at else "",
            "" if rental.cost is None else str(rental.cost),
        )
    console.print(table, highlight=False)


RentalId = Annotated[UUID, typer.Argument(metavar="UUID", help="The rental's uuid.", show_default=False)]
ClassOption = Annotated[str, typer.Option("--class", help="Executor class of the machine (see `classes`).")]
DurationOption = Annotated[str, typer.Option(help="How long: 60s to 60d, e.g. 90m, 2h, 7d.")]
KeyOption = Annotated[Path | None, typer.Option("--key", help="Your public key (default: ~/.ssh/id_ed25519.pub).")]
WaitOption = Annotated[float, typer.Option(help="Seconds to wait for the machine to answer.")]
