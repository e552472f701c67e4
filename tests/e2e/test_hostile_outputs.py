"""Jobs whose outputs are hostile (far more stdout/stderr than a frame holds, /output over the
class limit) end as the job's own outcome, on the first miner, billed: never as an infrastructure
failure retried on other miners for free."""

import pytest

from tests.e2e.conftest import submit, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.docker]

MiB = 1024 * 1024
FLOOD = (
    "import sys\n"
    "chunk = b'y' * (1 << 20)\n"
    "for _ in range(200): sys.stdout.buffer.write(chunk)\n"
    "for _ in range(50): sys.stderr.buffer.write(chunk)\n"
)


def _attempts(job: dict) -> int:
    return [h["status"] for h in job["status_history"]].count("dispatched")


def test_a_job_flooding_stdout_and_stderr_completes_truncated_on_its_first_miner(api):
    done = wait_for(api, submit(api, args=["python3", "-c", FLOOD], timeout_s=300, tag="e2e-flood")["uuid"], timeout=60)

    assert done["status"] == "completed", done["status_history"]
    print(done.get("stdout_bytes"), done.get("stdout_truncated"), done["stdout"][-200:], done["stderr"][-200:])
    assert float(done["cost"]) > 0
    assert _attempts(done) == 1, done["status_history"]
