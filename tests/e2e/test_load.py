"""Many jobs at once: more than the executors, so the validator must queue, not reject."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.conftest import balance, submit, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.docker]


def test_fifty_jobs_submitted_at_once_all_complete_each_charged_once(api):
    before, _ = balance(api)
    with ThreadPoolExecutor(max_workers=10) as pool:
        jobs = list(pool.map(lambda i: submit(api, args=["python3", "-c", f"print({i})"], tag="e2e-load"), range(50)))
    done = [wait_for(api, job["uuid"], timeout=240) for job in jobs]

    assert [d["status"] for d in done] == ["completed"] * 50
    assert sorted(int(d["stdout"]) for d in done) == list(range(50))
    for d in done:
        assert [h["status"] for h in d["status_history"]].count("completed") == 1
    total = sum(float(d["cost"]) for d in done)
    after, held = balance(api)
    assert after == pytest.approx(before - total, abs=1e-6)
    assert held == 0
