"""`meshwork` against a real network: the console script, configured by the credentials.json a
local network writes, runs real job containers through all four roles."""

import io
import os
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest

from tests.e2e.conftest import JOB_IMAGE

pytestmark = [pytest.mark.e2e, pytest.mark.docker]
MESHWORK = Path(sys.executable).parent / "meshwork"


@pytest.fixture(scope="module")
def meshwork(network):
    """Runs the console script with only the network's credentials.json to find the facilitator."""
    env = {k: v for k, v in os.environ.items() if k not in {"MESHWORK_URL", "MESHWORK_TOKEN"}}
    env["LOCALNET_DIR"] = str(network.write_credentials().parent)

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(MESHWORK), *args], capture_output=True, text=True, timeout=180, env=env, cwd=cwd)

    return run


def test_submit_wait_exits_with_the_jobs_exit_code_and_prints_its_output(meshwork):
    script = "import sys; print('bad'); print('worse', file=sys.stderr); sys.exit(3)"
    result = meshwork("submit", "--wait", JOB_IMAGE, "--", "python3", "-c", script)

    assert result.returncode == 3, result.stderr
    job_uuid, printed = result.stdout.split("\n", 1)
    uuid.UUID(job_uuid)
    assert printed == "bad\n"
    statuses = [line.split()[1] for line in result.stderr.splitlines()[:-1]]
    assert statuses[0] == "pending"
    assert "running" in statuses
    assert statuses[-1] == "failed"
    assert result.stderr.splitlines()[-1] == "worse"

    status = meshwork("status", job_uuid)
    assert status.returncode == 0
    assert "failed (job: nonzero_exit)" in status.stdout
    logs = meshwork("logs", job_uuid)
    assert (logs.stdout, logs.stderr) == ("bad\n", "worse\n")


def test_input_directory_in_output_zip_out(meshwork, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "words.txt").write_text("meshwork")
    script = (
        "import pathlib; text = pathlib.Path('/volume/words.txt').read_text();"
        "pathlib.Path('/output/upper.txt').write_text(text.upper()); print(len(text))"
    )
    result = meshwork("submit", "--input", str(tmp_path / "in"), "--wait", JOB_IMAGE, "--", "python3", "-c", script)

    assert result.returncode == 0, result.stderr
    job_uuid, printed = result.stdout.split("\n", 1)
    assert printed == "8\n"
    download = meshwork("download", job_uuid, cwd=tmp_path)
    assert download.returncode == 0, download.stderr
    archive = zipfile.ZipFile(io.BytesIO((tmp_path / f"{job_uuid}-output.zip").read_bytes()))
    assert archive.read("upper.txt") == b"MESHWORK"


def test_classes_and_a_refused_class(meshwork):
    classes = meshwork("classes")
    assert classes.returncode == 0, classes.stderr
    assert "cpu.small" in classes.stdout
    refused = meshwork("submit", JOB_IMAGE, "--class", "gpu.imaginary")
    assert refused.returncode == 1
    assert refused.stderr.startswith("meshwork: error: POST /api/v1/jobs/: 400 executor_class: unknown executor class")
    assert len(refused.stderr.splitlines()) == 1
