"""Process deaths with 20 jobs in flight: a miner, the validator (its main process, then its DHT
process) and the facilitator are killed with SIGKILL, and (but for the miner, whose jobs must finish
elsewhere first) revived. Every job must end once, charged once, never for the network's fault.

The scenarios share one network (conftest.py); each revives what it killed."""

import time
import uuid

import httpx
import pytest

from deploy.localnet.network import LocalNetwork
from tests.faults.conftest import facilitator_db, facilitator_query
from tests.faults.harness import account_balance, fault_report, settle, submit_batch, wait_running

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.docker]


def _tag(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}"


def _kill_proc(net: LocalNetwork, proc_name: str) -> None:
    next(p for node in net.nodes for p in node.procs if p.name == proc_name).kill()


def _assert_each_printed_once(jobs: dict[str, dict], uuids: list[str], tag: str) -> None:
    for i, job_uuid in enumerate(uuids):
        assert jobs[job_uuid]["stdout"] == f"{tag}-{i}\n", jobs[job_uuid]


def test_validator_dht_process_killed_and_revived(healthy: LocalNetwork, fault_api: httpx.Client) -> None:
    db, tag = facilitator_db(healthy), _tag("validator-dht")
    before = account_balance(db)
    uuids = submit_batch(fault_api, seconds=3, tag=tag)
    wait_running(fault_api, uuids, at_least=6, timeout=120)

    _kill_proc(healthy, "validator1-dht")
    time.sleep(1)
    healthy.revive("validator1")

    jobs = settle(fault_api, uuids, timeout=120)
    report = fault_report("validator DHT killed", uuids, facilitator_db=db, balance_before=before)
    assert report.clean, report.line()
    assert report.statuses == {"completed": len(uuids)}, report.line()
    _assert_each_printed_once(jobs, uuids, tag)


def test_validator_killed_mid_jobs_resumes_them_once_revived(healthy: LocalNetwork, fault_api: httpx.Client) -> None:
    db, tag = facilitator_db(healthy), _tag("validator")
    before = account_balance(db)
    uuids = submit_batch(fault_api, seconds=3, tag=tag)
    wait_running(fault_api, uuids, at_least=6, timeout=120)

    _kill_proc(healthy, "validator1")
    time.sleep(0.5)
    healthy.revive("validator1")

    jobs = settle(fault_api, uuids, timeout=150)
    report = fault_report("validator killed", uuids, facilitator_db=db, balance_before=before)
    assert report.clean, report.line()
    assert report.statuses == {"completed": len(uuids)}, report.line()
    _assert_each_printed_once(jobs, uuids, tag)


def test_facilitator_killed_mid_jobs_loses_no_report_once_revived(
    healthy: LocalNetwork, fault_api: httpx.Client
) -> None:
    db, tag = facilitator_db(healthy), _tag("facilitator")
    before = account_balance(db)
    uuids = submit_batch(fault_api, seconds=3, tag=tag)
    wait_running(fault_api, uuids, at_least=6, timeout=120)

    healthy.kill("facilitator")
    time.sleep(1)  # jobs end meanwhile: their reports wait in the validator's outbox
    healthy.revive("facilitator")

    jobs = settle(fault_api, uuids, timeout=150)
    report = fault_report("facilitator killed", uuids, facilitator_db=db, balance_before=before)
    assert report.clean, report.line()
    assert report.statuses == {"completed": len(uuids)}, report.line()
    _assert_each_printed_once(jobs, uuids, tag)


def test_miner_killed_mid_jobs_they_complete_elsewhere_charged_once(
    healthy: LocalNetwork, fault_api: httpx.Client
) -> None:
    db, tag = facilitator_db(healthy), _tag("miner")
    before = account_balance(db)
    uuids = submit_batch(fault_api, seconds=3, tag=tag)
    wait_running(fault_api, uuids, at_least=6, timeout=120)
    # One query, right before the kill: the miner with the most jobs running now.
    (victim_hotkey, _), *_ = facilitator_query(
        healthy,
        "SELECT miner_hotkey, COUNT(*) FROM facilitator_job WHERE status = 'running' AND uuid::text = ANY(%s)"
        " GROUP BY miner_hotkey ORDER BY 2 DESC",
        (uuids,),
    )
    victim = next(n for n in healthy.nodes if n.hotkey.ss58 == victim_hotkey)

    healthy.kill(victim.name)
    try:
        jobs = settle(fault_api, uuids, timeout=150)
    finally:
        healthy.sweep([victim])  # its job containers outlive it
    report = fault_report("miner killed", uuids, facilitator_db=db, balance_before=before)
    assert report.clean, report.line()
    assert report.statuses == {"completed": len(uuids)}, report.line()
    _assert_each_printed_once(jobs, uuids, tag)
    rerun = [
        job
        for job in jobs.values()
        if any(f"infrastructure failure on miner {victim_hotkey}" in h["detail"] for h in job["status_history"])
    ]
    assert rerun, "the kill hit no running job"
    for job in rerun:  # finished elsewhere, charged for that run only
        assert job["miner_hotkey"] != victim_hotkey, job
        assert float(job["cost"]) == pytest.approx(job["executor_seconds"] * 0.001, abs=1e-6), job
