"""A miner dies mid-job: the validator reruns the job elsewhere and the user pays once.

The victim is revived afterwards (and the network waited on), so the tests after it in the
session (storage's 2-of-3 needs all three miners) find the network whole again."""

import pytest

from tests.e2e.conftest import balance, submit, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.docker]


def test_miner_killed_mid_job_completes_on_another_miner_and_charges_once(network, api):
    before, _ = balance(api)
    job = submit(api, args=["python3", "-c", "import time; time.sleep(3); print('survived')"], timeout_s=60)
    running = wait_for(api, job["uuid"], {"running"})
    victim = next(n for n in network.nodes if n.hotkey.ss58 == running["miner_hotkey"])

    network.kill(victim.name)
    try:
        done = wait_for(api, job["uuid"])
    finally:
        network.revive(victim.name)
        network.wait_ready(timeout=120)

    assert done["status"] == "completed", done
    assert done["stdout"] == "survived\n"
    assert done["miner_hotkey"] != victim.hotkey.ss58
    details = " ".join(h["detail"] for h in done["status_history"])
    assert "infrastructure failure" in details
    cost = float(done["cost"])
    assert cost == pytest.approx(done["executor_seconds"] * 0.001, abs=1e-6)
    after, held = balance(api)
    assert after == pytest.approx(before - cost, abs=1e-6)
    assert held == 0
