"""Jobs whose outputs are hostile end as the job's own outcome, on the first miner, billed — never as
an infrastructure failure retried on other miners for free. The flood's report (megabytes of logs)
crosses real daphne consumers on both hops: miner → validator and validator → facilitator."""

import re

import pytest

from tests.e2e.conftest import submit, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.docker]

FLOOD = (
    "import sys\n"
    "chunk = b'y' * (1 << 20)\n"
    "for _ in range(200): sys.stdout.buffer.write(chunk)\n"
    "for _ in range(50): sys.stderr.buffer.write(chunk)\n"
)
# The seeded cpu.small class allows 64 MiB in /output; this writes past it until the disk is full.
FILL_OUTPUT = (
    "import sys\n"
    "print('filling', flush=True)\n"
    "with open('/output/big', 'wb') as f:\n"
    "    for _ in range(96): f.write(b'\\0' * (1 << 20))\n"
)


def _dispatches(job: dict) -> int:
    return [h["status"] for h in job["status_history"]].count("dispatched")


def _marker(text: str, stream: str, written: int) -> int:
    match = re.search(rf"\n\[meshwork: {stream} truncated: {written} bytes written, (\d+) kept\]\n\Z", text)
    assert match is not None, text[-300:]
    return int(match.group(1))


def test_a_job_flooding_stdout_and_stderr_completes_truncated_on_its_first_miner(api):
    job = submit(api, args=["python3", "-c", FLOOD], timeout_s=120, tag="e2e-flood")
    done = wait_for(api, job["uuid"], timeout=240)

    assert done["status"] == "completed", done["status_history"]
    assert done["failure"] is None
    assert _dispatches(done) == 1, done["status_history"]  # no retry on another miner
    assert float(done["cost"]) > 0
    assert done["executor_seconds"] > 0
    assert (done["stdout_bytes"], done["stdout_truncated"]) == (200 << 20, True)
    assert (done["stderr_bytes"], done["stderr_truncated"]) == (50 << 20, True)
    kept = _marker(done["stdout"], "stdout", 200 << 20)
    assert done["stdout"].startswith("y" * kept)
    assert kept > 0
    assert _marker(done["stderr"], "stderr", 50 << 20) > 0


def test_output_past_the_class_limit_is_a_billed_job_failure_not_a_retry(api):
    done = wait_for(api, submit(api, args=["python3", "-c", FILL_OUTPUT], tag="e2e-fill")["uuid"], timeout=180)

    assert done["status"] == "failed", done["status_history"]
    assert done["failure"]["kind"] == "job"
    assert done["failure"]["reason"] == "output_too_large"
    assert "limit" in done["failure"]["detail"]
    assert _dispatches(done) == 1, done["status_history"]
    assert float(done["cost"]) > 0
    assert done["stdout"] == "filling\n"
    assert (done["stdout_bytes"], done["stdout_truncated"]) == (8, False)
