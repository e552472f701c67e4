"""Process deaths with 20 jobs in flight: a miner, the validator (its main process, then its DHT
process) and the facilitator are killed with SIGKILL, and (but for the miner, whose jobs must finish
elsewhere first) revived. Every job must end once, charged once, never for the network's fault.

The scenarios share one network (conftest.py); the next scenario revives whatever is still down."""

import time

import pytest

from tests.faults.harness import Batch, Faults

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.docker]


def _kill_proc(faults: Faults, proc_name: str) -> None:
    next(p for node in faults.net.nodes for p in node.procs if p.name == proc_name).kill()


def _all_completed_once(batch: Batch) -> None:
    assert batch.report is not None
    assert batch.report.statuses == {"completed": len(batch.uuids)}, batch.report.line()
    batch.assert_each_printed_once()


def test_validator_dht_process_killed_and_revived(faults: Faults) -> None:
    def fault(batch: Batch) -> None:
        _kill_proc(faults, "validator1-dht")
        time.sleep(1)  # routing meanwhile reads the heartbeats the DHT process stored
        faults.net.revive("validator1")

    _all_completed_once(faults.scenario("validator DHT killed", fault))


def test_validator_killed_mid_jobs_resumes_them_once_revived(faults: Faults) -> None:
    def fault(batch: Batch) -> None:
        _kill_proc(faults, "validator1")
        time.sleep(0.5)
        faults.net.revive("validator1")

    _all_completed_once(faults.scenario("validator killed", fault))


def test_facilitator_killed_mid_jobs_loses_no_report_once_revived(faults: Faults) -> None:
    def fault(batch: Batch) -> None:
        faults.net.kill("facilitator")
        time.sleep(1)  # jobs end meanwhile: their reports wait in the validator's outbox
        faults.net.revive("facilitator")

    _all_completed_once(faults.scenario("facilitator killed", fault))


def test_miner_killed_mid_jobs_they_complete_elsewhere_charged_once(faults: Faults) -> None:
    victim_hotkey = ""

    def fault(batch: Batch) -> None:
        nonlocal victim_hotkey
        # One query, right before the kill: the miner with the most jobs running now.
        (victim_hotkey, _), *_ = faults.query(
            "SELECT miner_hotkey, COUNT(*) FROM facilitator_job WHERE status = 'running' AND uuid::text = ANY(%s)"
            " GROUP BY miner_hotkey ORDER BY 2 DESC",
            (batch.uuids,),
        )
        # Not revived here: its jobs must finish elsewhere. Its job containers outlive it; the
        # next scenario revives it, and a miner sweeps what it left behind when it starts.
        faults.net.kill(next(n.name for n in faults.net.nodes if n.hotkey.ss58 == victim_hotkey))

    batch = faults.scenario("miner killed", fault)
    _all_completed_once(batch)
    rerun = [
        job
        for job in batch.views.values()
        if any(f"infrastructure failure on miner {victim_hotkey}" in h["detail"] for h in job["status_history"])
    ]
    assert rerun, "the kill hit no running job"
    for job in rerun:  # finished elsewhere, charged for that run only
        assert job["miner_hotkey"] != victim_hotkey, job
        assert float(job["cost"]) == pytest.approx(job["executor_seconds"] * 0.001, abs=1e-6), job
