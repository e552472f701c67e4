"""Every verb of `meshwork` against a real facilitator; exit codes; errors as one line."""

import base64
import io
import json
import uuid
import zipfile

import pytest

from facilitator.models import Job
from tests.client.cli.conftest import one_error_line
from tests.client.conftest import job_finish

pytestmark = pytest.mark.django_db(transaction=True)
IMAGE = "meshwork/job-python:3.11"


@pytest.fixture
def cli(meshwork, facilitator):
    """`meshwork` pointed at the test's facilitator with the funded user's token."""
    return lambda *args, **kw: meshwork(*args, url=facilitator.url, token=facilitator.token, **kw)


def _submitted(cli, *args) -> Job:
    result = cli("submit", IMAGE, *args)
    assert result.exit_code == 0, result.stderr
    return Job.objects.get(uuid=uuid.UUID(result.stdout.strip()))


def test_submit_prints_the_uuid_and_sends_every_option(cli, tmp_path):
    (tmp_path / "in" / "data").mkdir(parents=True)
    (tmp_path / "in" / "data" / "a.txt").write_text("hello")
    result = cli(
        "submit", IMAGE, "--class", "cpu.small", "--timeout", "30", "--env", "A=1", "--env", "B=x=y",
        "--input", str(tmp_path / "in"), "--tag", "cli", "--", "python3", "-c", "print(1)",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    job = Job.objects.get(uuid=uuid.UUID(result.stdout.strip()))
    assert (job.image, job.args, job.env, job.timeout_s, job.tag, job.executor_class) == (
        IMAGE, ["python3", "-c", "print(1)"], {"A": "1", "B": "x=y"}, 30, "cli", "cpu.small",
    )  # fmt: skip
    assert job.input is not None
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(job.input["zip_b64"])))
    assert archive.read("data/a.txt") == b"hello"


def test_submit_wait_follows_the_history_prints_the_output_and_exits_with_the_jobs_code(cli, finish_when_submitted):
    finish_when_submitted("exit3", exit_code=3, stdout="bad\n", stderr="oops\n")
    result = cli("submit", IMAGE, "--tag", "exit3", "--wait", "--", "python3", "-c", "raise SystemExit(3)")
    assert result.exit_code == 3, result.stderr
    job_uuid, printed = result.stdout.split("\n", 1)
    assert Job.objects.get(uuid=job_uuid).status == "failed"
    assert printed == "bad\n"
    lines = result.stderr.splitlines()
    assert "pending" in lines[0]
    assert "failed" in lines[1]
    assert lines[2:] == ["oops"]


def test_submit_wait_of_a_job_that_completed_exits_0(cli, finish_when_submitted):
    finish_when_submitted("ok", exit_code=0, stdout="42\n")
    result = cli("submit", IMAGE, "--tag", "ok", "--wait", "--", "python3", "-c", "print(42)")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1:] == ["42"]


def test_submit_wait_of_a_job_that_timed_out_or_never_ran_exits_124_or_125_with_the_reason(cli, finish_when_submitted):
    finish_when_submitted("slow", exit_code=None, status="timeout")
    timed_out = cli("submit", IMAGE, "--tag", "slow", "--wait")
    assert timed_out.exit_code == 124, timed_out.stderr
    assert "timeout" in timed_out.stderr.splitlines()[-1]

    finish_when_submitted("gone", exit_code=None, status="rejected")
    rejected = cli("submit", IMAGE, "--tag", "gone", "--wait")
    assert rejected.exit_code == 125, rejected.stderr
    assert rejected.stderr.splitlines()[-1].endswith("rejected")


def test_status_prints_the_outcome_and_history_or_json(cli):
    job = _submitted(cli, "--tag", "st")
    job_finish(job.uuid, exit_code=2, stdout="", stderr="")
    text = cli("status", str(job.uuid))
    assert text.exit_code == 0, text.stderr
    assert str(job.uuid) in text.stdout
    assert "failed (job: nonzero_exit)" in text.stdout
    assert "exit code  2" in text.stdout
    assert [line.split()[1] for line in text.stdout.splitlines() if line.startswith("  ")][-2:] == ["pending", "failed"]
    as_json = json.loads(cli("status", str(job.uuid), "--json").stdout)
    assert (as_json["uuid"], as_json["status"], as_json["exit_code"]) == (str(job.uuid), "failed", 2)


def test_logs_prints_stdout_and_stderr_apart(cli):
    job = _submitted(cli)
    running = cli("logs", str(job.uuid))
    assert running.exit_code == 0
    assert "its logs come when it ends" in running.stderr
    job_finish(job.uuid, exit_code=0, stdout="out\n", stderr="err\n")
    result = cli("logs", str(job.uuid))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "out\n", "err\n")


def test_cancel_and_cancelling_an_ended_job(cli):
    job = _submitted(cli)
    result = cli("cancel", str(job.uuid))
    assert (result.exit_code, result.stdout) == (0, f"{job.uuid} cancelled\n")
    again = cli("cancel", str(job.uuid))
    assert again.exit_code == 1
    assert one_error_line(again.stderr).startswith(f"POST /api/v1/jobs/{job.uuid}/cancel/: 400 status: ")


def test_download_writes_the_output_zip(cli, tmp_path, monkeypatch):
    job = _submitted(cli)
    missing = cli("download", str(job.uuid))
    assert missing.exit_code == 1
    assert "no output" in one_error_line(missing.stderr)
    output = b"PK\x05\x06" + b"\0" * 18
    job_finish(job.uuid, exit_code=0, output_zip_b64=base64.b64encode(output).decode())
    target = tmp_path / "out.zip"
    result = cli("download", str(job.uuid), "-o", str(target))
    assert (result.exit_code, result.stdout) == (0, f"{target} ({len(output)} bytes)\n")
    assert target.read_bytes() == output
    monkeypatch.chdir(tmp_path)
    assert cli("download", str(job.uuid)).exit_code == 0
    assert (tmp_path / f"{job.uuid}-output.zip").read_bytes() == output
    unwritable = cli("download", str(job.uuid), "-o", str(tmp_path / "no" / "such" / "dir.zip"))
    assert unwritable.exit_code == 1
    assert "cannot write" in one_error_line(unwritable.stderr)


def test_classes_lists_the_executor_classes(cli):
    result = cli("classes")
    assert result.exit_code == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:] if line.strip()}
    assert "cpu.small" in rows
    assert "willing" in result.stdout.splitlines()[0]
    assert " ? " in rows["cpu.small"]  # no validator has reported who is willing at the price yet


def test_the_facilitator_comes_from_the_environment_or_the_local_networks_credentials(meshwork, facilitator, tmp_path):
    env = {"MESHWORK_URL": facilitator.url, "MESHWORK_TOKEN": facilitator.token}
    assert meshwork("classes", env=env).exit_code == 0

    localnet = tmp_path / "net"
    localnet.mkdir()
    credentials = {"facilitator_url": facilitator.url, "api_token": facilitator.token, "admin_url": ""}
    (localnet / "credentials.json").write_text(json.dumps(credentials))
    assert meshwork("classes", env={"LOCALNET_DIR": str(localnet)}).exit_code == 0

    (localnet / "credentials.json").write_text("{not json")
    broken = meshwork("classes", env={"LOCALNET_DIR": str(localnet)})
    assert broken.exit_code == 1
    assert one_error_line(broken.stderr).startswith(f"cannot read {localnet / 'credentials.json'}")

    nothing = meshwork("classes")
    assert nothing.exit_code == 1
    assert "pass --url and --token" in one_error_line(nothing.stderr)


def test_refusals_from_the_facilitator_are_one_line_with_field_and_reason(cli, meshwork, facilitator):
    bad_image = cli("submit", "NOT VALID")
    assert bad_image.exit_code == 1
    assert one_error_line(bad_image.stderr).startswith("POST /api/v1/jobs/: 400 image: not a valid image reference")

    too_long = cli("submit", IMAGE, "--timeout", "100000")
    assert "400 timeout_s: " in one_error_line(too_long.stderr)

    unknown = cli("status", str(uuid.uuid4()))
    assert unknown.exit_code == 1
    assert ": 404 " in one_error_line(unknown.stderr)

    denied = meshwork("classes", url=facilitator.url, token="wrong")
    assert denied.exit_code == 1
    assert ": 401 " in one_error_line(denied.stderr)
