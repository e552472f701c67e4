"""`meshwork`: the verbs of DESIGN.md "CLI and installers" (`rentals` and `rent-end` extend them).
Each verb parses its arguments, makes one or two SDK calls and prints."""

import sys
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console

from client.cli.config import Connection, connection_resolve
from client.cli.errors import CliError, OneLineErrors, report
from client.cli.inputs import env_parse, input_zip
from client.cli.outcome import job_exit_code, job_failure_line
from client.cli.progress import job_follow
from client.cli.render import classes_print, job_print, ledger_print, objects_print
from client.cli.rentals import (
    ClassOption,
    DurationOption,
    KeyOption,
    RentalId,
    WaitOption,
    duration_parse,
    public_key_read,
    rent_and_wait,
    rentals_print,
)
from client.sdk import MeshworkClient
from client.sdk.encryption import client_decrypt, client_encrypt, is_client_encrypted, key_load, key_path_for, key_save

app = typer.Typer(
    cls=OneLineErrors,
    name="meshwork",
    help="Submit and follow jobs on a Meshwork network.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
JobId = Annotated[UUID, typer.Argument(metavar="UUID", help="The job's uuid.", show_default=False)]


@app.callback()
def connect(
    ctx: typer.Context,
    url: Annotated[str | None, typer.Option(envvar="MESHWORK_URL", help="The facilitator's base URL.")] = None,
    token: Annotated[
        str | None, typer.Option(envvar="MESHWORK_TOKEN", help="Your API token.", show_envvar=True)
    ] = None,
) -> None:
    """Resolved only when a verb needs it, so `--help` works without a network."""
    ctx.obj = (url, token)


@app.command()
def submit(
    ctx: typer.Context,
    image: Annotated[str, typer.Argument(help="The job's image, e.g. meshwork/job-python:3.11.")],
    args: Annotated[list[str] | None, typer.Argument(help="The job's command, after --.", show_default=False)] = None,
    executor_class: Annotated[str | None, typer.Option("--class", help="Executor class (see `classes`).")] = None,
    timeout: Annotated[int | None, typer.Option(help="Seconds the job may run (1..86400; default 600).")] = None,
    env: Annotated[list[str] | None, typer.Option(help="KEY=VALUE, repeatable.", show_default=False)] = None,
    input_path: Annotated[Path | None, typer.Option("--input", help="A directory or zip, at /volume.")] = None,
    tag: Annotated[str | None, typer.Option(help="A label to find the job by.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Follow it; exit with its exit code.")] = False,
) -> int:
    """Submit a job and print its uuid (with --wait: follow it, print its output, exit with its code)."""
    variables = env_parse(env or [])
    blob = input_zip(input_path) if input_path is not None else None
    with _client(ctx) as client:
        job = client.submit(
            image,
            args=args or [],
            env=variables,
            executor_class=executor_class,
            timeout_s=timeout,
            input_zip=blob,
            tag=tag,
        )
        typer.echo(job.uuid)
        if not wait:
            return 0
        try:
            job = job_follow(client, job, console=Console(stderr=True))
        except KeyboardInterrupt:
            return report(f"stopped following; job {job.uuid} keeps running (`meshwork cancel {job.uuid}`)", 130)
    sys.stdout.write(job.stdout)
    sys.stderr.write(job.stderr)
    failure = job_failure_line(job)
    if failure:
        report(failure, 0)
    return job_exit_code(job)


@app.command()
def status(
    ctx: typer.Context,
    job_uuid: JobId,
    as_json: Annotated[bool, typer.Option("--json", help="Print the job as JSON.")] = False,
) -> None:
    """Print a job's status, outcome and status history."""
    with _client(ctx) as client:
        job = client.job(job_uuid)
    if as_json:
        typer.echo(job.model_dump_json(indent=2))
    else:
        job_print(job, Console())


@app.command()
def logs(ctx: typer.Context, job_uuid: JobId) -> None:
    """Print a job's stdout (to stdout) and stderr (to stderr)."""
    with _client(ctx) as client:
        job = client.job(job_uuid)
    sys.stdout.write(job.stdout)
    sys.stderr.write(job.stderr)
    if not job.finished:
        typer.echo(f"meshwork: job {job.uuid} is {job.status}; its logs come when it ends", err=True)


@app.command()
def cancel(ctx: typer.Context, job_uuid: JobId) -> None:
    """Cancel a job that has not ended."""
    with _client(ctx) as client:
        job = client.cancel(job_uuid)
    typer.echo(f"{job.uuid} {job.status}")


@app.command()
def download(
    ctx: typer.Context,
    job_uuid: JobId,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Where to write the zip.")] = None,
) -> None:
    """Download the zip of a job's /output (default UUID-output.zip)."""
    with _client(ctx) as client:
        content = client.output(job_uuid)
    path = output or Path(f"{job_uuid}-output.zip")
    try:
        path.write_bytes(content)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from exc
    typer.echo(f"{path} ({len(content)} bytes)")


@app.command()
def classes(ctx: typer.Context) -> None:
    """List the executor classes jobs can ask for."""
    with _client(ctx) as client:
        found = client.executor_classes()
    classes_print(found, Console())


@app.command()
def history(
    ctx: typer.Context,
    kind: Annotated[
        str | None, typer.Option(help="Only this kind: grant, topup, charge, interval, refund, storage.")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many rows, newest first (at most 1000).")] = 50,
) -> None:
    """Print your credit ledger, newest first, with the balance after each row."""
    with _client(ctx) as client:
        page = client.history(kind=kind, limit=limit)
    ledger_print(page.results, Console())
    if page.next:
        typer.echo(f"meshwork: {len(page.results)} of {page.count} rows shown (--limit for more)", err=True)


ObjectId = Annotated[UUID, typer.Argument(metavar="ID", help="The object's id.", show_default=False)]


@app.command()
def put(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The file to store.", show_default=False)],
    name: Annotated[str | None, typer.Option(help="Its name (default: the file's).")] = None,
    encrypt: Annotated[bool, typer.Option("--encrypt", help="Encrypt here first: no node sees the bytes.")] = False,
) -> None:
    """Store a file: encrypted, spread over miners, audited. Prints its id."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {file}: {exc.strerror or exc}") from exc
    key = None
    if encrypt:
        key, data = client_encrypt(data)
    with _client(ctx) as client:
        stored = client.object_put(data, name=name or file.name)
    typer.echo(f"{stored.id} {stored.size} bytes, {stored.health.shares} shares ({stored.health.needed} needed)")
    if key is not None:
        typer.echo(
            f"meshwork: the key is in {key_save(stored.id, key)}; without it the object cannot be read", err=True
        )


@app.command()
def get(
    ctx: typer.Context,
    object_id: ObjectId,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Where to write it (default: its name).")
    ] = None,
    key_file: Annotated[
        Path | None, typer.Option("--key-file", help="The key of an object put with --encrypt.")
    ] = None,
) -> None:
    """Download an object (decrypting it when it was put with --encrypt and its key is here)."""
    with _client(ctx) as client:
        meta = client.object(object_id)
        data = client.object_content(object_id)
    if is_client_encrypted(data):
        path = key_file or key_path_for(meta.id)
        if not path.exists():
            raise CliError(f"the object is encrypted and its key is not at {path} (give --key-file)")
        data = client_decrypt(data, key=key_load(path))
    target = output or Path(meta.name)
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise CliError(f"cannot write {target}: {exc.strerror or exc}") from exc
    typer.echo(f"{target} ({len(data)} bytes)")


@app.command()
def objects(ctx: typer.Context) -> None:
    """List your stored objects with their health."""
    with _client(ctx) as client:
        page = client.objects(limit=200)
    objects_print(page.results, Console())


@app.command()
def rm(ctx: typer.Context, object_id: ObjectId) -> None:
    """Delete an object (its shares are removed from the miners; billing stops)."""
    with _client(ctx) as client:
        client.object_delete(object_id)
    typer.echo(f"{object_id} deleted")


@app.command()
def rent(
    ctx: typer.Context,
    executor_class: ClassOption,
    duration: DurationOption = "1h",
    key: KeyOption = None,
    wait: WaitOption = 120.0,
) -> None:
    """Rent a machine reached over SSH with your key; prints the ssh command once it answers."""
    seconds, public_key = duration_parse(duration), public_key_read(key)
    with _client(ctx) as client:
        rental = rent_and_wait(client, executor_class=executor_class, duration_s=seconds, key=public_key, wait_s=wait)
    if rental.ssh is not None:
        typer.echo(rental.ssh.command)
        expires = rental.expires_at.isoformat(timespec="seconds") if rental.expires_at else "?"
        typer.echo(
            f"meshwork: rental {rental.uuid} until {expires}; end it with `meshwork rent-end {rental.uuid}`", err=True
        )
        return
    why = f" ({rental.failure.reason}: {rental.failure.detail})" if rental.failure else ""
    if rental.settled:
        raise CliError(f"rental {rental.uuid} {rental.status}{why}")
    raise CliError(f"rental {rental.uuid} is still {rental.status} after {wait:g} s (see `meshwork rentals`)")


@app.command()
def rentals(ctx: typer.Context) -> None:
    """List your rentals: status, where to log in, when each expires."""
    with _client(ctx) as client:
        page = client.rentals(limit=200)
    rentals_print(page.results, Console())


@app.command("rent-end")
def rent_end(ctx: typer.Context, rental_uuid: RentalId) -> None:
    """End a rental now: its machine is removed and billing stops."""
    with _client(ctx) as client:
        rental = client.rental_end(rental_uuid)
    typer.echo(f"{rental.uuid} {rental.status}")


def _client(ctx: typer.Context) -> MeshworkClient:
    url, token = ctx.obj
    connection: Connection = connection_resolve(url=url, token=token)
    return MeshworkClient(connection.url, connection.token)


def main() -> None:
    """The console script."""
    app(prog_name="meshwork")
