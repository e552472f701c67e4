"""Errors as one line on stderr and an exit code, never a traceback (DESIGN.md "CLI").

Exit codes: 1 an error talking to the facilitator (or a refusal from it), 2 a usage error, 130
interrupted; `submit --wait` adds the job's own codes (client/cli/outcome.py)."""

import os
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

from client.sdk import MeshworkError

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """A refusal of the CLI's own: a bad configuration or a file it cannot write (exit 1), or an
    argument it cannot use (`usage=True`, exit 2)."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.exit_code = EXIT_USAGE if usage else EXIT_ERROR


class OneLineErrors(TyperGroup):
    """The command group, whose `main` turns every failure into `meshwork: error: …` (set
    MESHWORK_DEBUG=1 to see the traceback instead)."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
            code = code if isinstance(code, int) else 0
        except typer.TyperException as exc:  # typer's (vendored click's) usage errors, exit code 2
            code = report(_with_hint(exc.format_message()), exc.exit_code)
        except (typer.Abort, KeyboardInterrupt):
            code = report("interrupted", EXIT_INTERRUPTED)
        except CliError as exc:
            code = report(str(exc), exc.exit_code)
        except MeshworkError as exc:
            code = report(str(exc), EXIT_ERROR)
        except Exception as exc:
            if os.environ.get("MESHWORK_DEBUG"):
                raise
            code = report(f"unexpected {type(exc).__name__}: {exc} (MESHWORK_DEBUG=1 shows where)", EXIT_ERROR)
        if standalone_mode:
            sys.exit(code)
        return code


def report(message: str, code: int) -> int:
    """Prints one line (none for an empty message: typer has printed the help) and returns the
    exit code to leave with."""
    if message.strip():
        typer.echo(f"meshwork: error: {' '.join(message.split())}", err=True)
    return code


def _with_hint(message: str) -> str:
    # `meshwork submit IMAGE python3 -c …` without `--` reads the job's `-c` as an option of ours.
    if message.startswith("No such option"):
        return f"{message} (put the job's own arguments after --)"
    return message
