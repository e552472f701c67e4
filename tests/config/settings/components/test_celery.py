"""The routing table and the beat schedule, built for every role."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from celery import Celery

from config.celery import app as celery_app
from config.settings.components.celery import beat_schedule, role_queue, task_queues, task_routes

ROOT = Path(__file__).resolve().parents[4]
ROLES = ["facilitator", "validator", "miner"]
OWN_ENTRIES = {
    "facilitator": {
        "facilitator-dispatch-pending",
        "facilitator-expire-stale",
        "facilitator-bill-storage",
        "chain-sync-metagraph",
        "dht-catalogue-sync",
    },
    "validator": {
        "validator-sync-miners",
        "validator-benchmark-cycle",
        "validator-benchmark-newcomers",
        "validator-score-cycle",
        "validator-pull-receipts",
        "validator-submit-weights",
        "validator-storage-audit",
        "validator-storage-repair",
        "chain-sync-metagraph",
        "chain-reveal-weights",
        "dht-catalogue-sync",
    },
    "miner": {
        "miner-sync-validators",
        "miner-refresh-host-specs",
        "miner-publish-manifest",
        "chain-sync-metagraph",
        "dht-catalogue-sync",
    },
}


def _meshwork_tasks() -> list[str]:
    celery_app.loader.import_default_modules()
    names = sorted(name for name in celery_app.tasks if not name.startswith("celery."))
    assert names, "no Meshwork task registered"
    return names


def _router_for(role: str) -> Celery:
    app = Celery(set_as_current=False)
    app.conf.task_routes = task_routes(role)
    app.conf.task_queues = task_queues(role)
    app.conf.task_default_queue = role_queue(role)
    return app


def _queue(app: Celery, task: str) -> str:
    return str(app.amqp.router.route({}, task)["queue"].name)


@pytest.mark.parametrize("role", ROLES)
def test_routes_send_each_task_to_its_roles_queue(role):
    app = _router_for(role)
    for task in _meshwork_tasks():
        app_name = task.split(".", 1)[0]
        expected = role if app_name in ("chain", "dht") else app_name
        assert _queue(app, task) == expected, task


@pytest.mark.parametrize("role", ROLES)
def test_a_worker_started_without_queue_flags_consumes_only_its_roles_queue(role):
    assert [queue.name for queue in task_queues(role)] == [role]


def test_the_all_in_one_process_consumes_every_queue_and_sends_chain_tasks_to_the_default():
    assert {queue.name for queue in task_queues("all")} == {*ROLES, "celery"}
    assert _queue(_router_for("all"), "chain.tasks.sync_metagraph") == "celery"
    assert _queue(celery_app, "validator.tasks.sync_miners") == "validator"  # the live app (tests run "all")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_runs_only_its_own_beat_entries(role):
    schedule = beat_schedule(role, sync_interval_s=12.0, block_seconds=6.0)
    assert set(schedule) == OWN_ENTRIES[role]


def test_the_all_in_one_process_runs_every_entry_and_each_entry_expires_at_its_interval():
    schedule = beat_schedule(
        "all",
        sync_interval_s=12.0,
        block_seconds=6.0,
        catalogue_sync_s=45.0,
        cycle_tick_s=20.0,
        score_tick_s=15.0,
        receipt_pull_s=90.0,
        weights_tick_s=16.0,
    )
    assert set(schedule) == set().union(*OWN_ENTRIES.values())
    assert schedule["validator-submit-weights"]["schedule"] == timedelta(seconds=16)
    assert schedule["dht-catalogue-sync"]["schedule"] == timedelta(seconds=45)
    assert schedule["validator-benchmark-cycle"]["schedule"] == timedelta(seconds=20)
    assert schedule["validator-score-cycle"]["schedule"] == timedelta(seconds=15)
    assert schedule["validator-pull-receipts"]["schedule"] == timedelta(seconds=90)
    registered = set(_meshwork_tasks())
    for name, entry in schedule.items():
        assert entry["task"] in registered, name
        assert isinstance(entry["schedule"], timedelta)
        assert entry["options"]["expires"] == entry["schedule"].total_seconds(), name
    assert schedule["chain-sync-metagraph"]["schedule"] == timedelta(seconds=12)
    assert schedule["chain-reveal-weights"]["schedule"] == timedelta(seconds=6)


@pytest.mark.parametrize("role", ROLES)
def test_settings_apply_the_processs_role(role):
    """Settings are evaluated at import: read them in a process started with that role."""
    code = (
        "import json; from config.settings import base as s; print(json.dumps({'beat': sorted(s.CELERY_BEAT_SCHEDULE),"
        " 'chain': s.CELERY_TASK_ROUTES['chain.tasks.*']['queue'], 'default': s.CELERY_TASK_DEFAULT_QUEUE}))"
    )
    env = {**os.environ, "MESHWORK_ROLE": role}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, check=True, text=True)
    assert json.loads(out.stdout) == {"beat": sorted(OWN_ENTRIES[role]), "chain": role, "default": role}
