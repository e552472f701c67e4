"""Failures before any answer: bad arguments (nothing is sent) and an unreachable facilitator,
each one line on stderr with its exit code."""

import pytest

from tests.client.cli.conftest import one_error_line
from tests.client.conftest import Reply, free_port

IMAGE = "meshwork/job-python:3.11"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["status", "not-a-uuid"], "Invalid value for 'UUID'"),
        (["submit", IMAGE, "--env", "NOEQUALS"], "--env: expected KEY=VALUE, got 'NOEQUALS'"),
        (["submit", IMAGE, "--timeout", "soon"], "Invalid value for '--timeout'"),
        (["submit", IMAGE, "python3", "-c", "1"], "No such option: -c (put the job's own arguments after --)"),
        (["submit", IMAGE, "--input", "/no/such/dir"], "--input: /no/such/dir does not exist"),
        (["submit", IMAGE, "--input", "/etc/hostname"], "--input: /etc/hostname is neither a directory nor a zip"),
        (["download"], "Missing argument 'UUID'"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_bad_arguments_are_one_line_exit_2_and_send_nothing(meshwork, scripted, args, expected):
    server = scripted([Reply(500, {"detail": "must not be asked"})])
    result = meshwork(*args, url=server.url, token="t")
    assert result.exit_code == 2
    assert expected in one_error_line(result.stderr)
    assert server.seen == []


def test_an_unreachable_facilitator_is_one_line(meshwork):
    port = free_port()
    result = meshwork("classes", url=f"http://127.0.0.1:{port}", token="t")
    assert result.exit_code == 1
    assert "cannot connect" in one_error_line(result.stderr)


def test_a_url_that_is_no_url_is_one_line(meshwork):
    result = meshwork("classes", url="127.0.0.1:8000", token="t")
    assert result.exit_code == 1
    assert "--url must be an http:// or https:// URL" in one_error_line(result.stderr)


def test_help_needs_no_facilitator(meshwork):
    result = meshwork("--help")
    assert result.exit_code == 0
    for verb in ("submit", "status", "logs", "cancel", "download", "classes"):
        assert verb in result.stdout
