"""The validator times every stage of a job as it sees each end (meshwork_job_stage_seconds)."""

import pytest
from prometheus_client import REGISTRY

from tests.validator.scripted_miner import SessionRun, scripted_miner
from tests.validator.test_miner_session import runs_for

STAGES = ("executor_ready", "volume_ready", "started", "finished")
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_deadlines", "close_async_db")]


def _stage(stage: str, what: str = "count") -> float:
    labels = {"role": "validator", "stage": stage}
    return REGISTRY.get_sample_value(f"meshwork_job_stage_seconds_{what}", labels) or 0.0


async def test_each_stage_of_a_finished_job_is_observed_once(run: SessionRun) -> None:
    counts = {stage: _stage(stage) for stage in STAGES}
    finished_sum = _stage("finished", "sum")
    async with scripted_miner(run.miner_key, runs_for(0.3, reported=1)) as address:
        await run(address)
    assert {stage: _stage(stage) - counts[stage] for stage in STAGES} == dict.fromkeys(STAGES, 1)
    assert 0.3 <= _stage("finished", "sum") - finished_sum < 0.5  # JobStarted → JobFinished


async def test_a_job_that_never_started_observes_no_run_stage(run: SessionRun) -> None:
    counts = {stage: _stage(stage) for stage in STAGES}
    async with scripted_miner(run.miner_key, runs_for(0.05, reported=1, send_started=False)) as address:
        await run(address)
    assert {stage: _stage(stage) - counts[stage] for stage in STAGES} == {
        "executor_ready": 1,
        "volume_ready": 1,
        "started": 0,
        "finished": 0,
    }
