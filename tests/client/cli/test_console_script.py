"""`meshwork` as users run it: the console script `make venv` installs, in a process of its own."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.client.conftest import free_port

MESHWORK = Path(sys.executable).parent / "meshwork"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MESHWORK_") and k != "LOCALNET_DIR"}
    clean["LOCALNET_DIR"] = "/nonexistent-localnet"
    clean.update(env or {})
    return subprocess.run([str(MESHWORK), *args], capture_output=True, text=True, timeout=60, env=clean)


def test_the_console_script_is_installed_and_lists_its_verbs():
    assert MESHWORK.exists(), "run `make venv`: it installs the project's console scripts"
    result = run("--help")
    assert result.returncode == 0, result.stderr
    assert "Usage: meshwork" in result.stdout


def test_errors_are_one_line_without_a_traceback():
    unreachable = run("classes", env={"MESHWORK_URL": f"http://127.0.0.1:{free_port()}", "MESHWORK_TOKEN": "t"})
    assert unreachable.returncode == 1
    assert unreachable.stdout == ""
    assert len(unreachable.stderr.splitlines()) == 1
    assert unreachable.stderr.startswith("meshwork: error: GET http://127.0.0.1:")

    usage = run("submit", "meshwork/job-python:3.11", "--env", "X")
    assert usage.returncode == 2
    assert usage.stderr == "meshwork: error: --env: expected KEY=VALUE, got 'X'\n"

    unconfigured = run("classes")
    assert unconfigured.returncode == 1
    assert "no facilitator given" in unconfigured.stderr
    assert len(unconfigured.stderr.splitlines()) == 1


@pytest.mark.django_db(transaction=True)
def test_the_console_script_talks_to_a_facilitator(facilitator):
    result = run("classes", env={"MESHWORK_URL": facilitator.url, "MESHWORK_TOKEN": facilitator.token})
    assert result.returncode == 0, result.stderr
    assert "cpu.small" in result.stdout
