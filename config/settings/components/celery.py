"""Celery: the broker, limits, the routing table and each role's beat schedule.

`task_routes`, `task_queues` and `beat_schedule` are functions of the role so tests can build them
for every role; the settings below apply them to this process's `MESHWORK_ROLE`."""

from datetime import timedelta
from typing import Any

from kombu import Queue

from config.env import env
from config.roles import NodeRole
from config.settings.components.catalogue import CATALOGUE_SYNC_S
from config.settings.components.chain import CHAIN_BLOCK_SECONDS, CHAIN_SYNC_INTERVAL_S
from config.settings.components.meshwork import MINER_SPECS_REFRESH_S
from config.settings.components.node import MESHWORK_ROLE, REDIS_PREFIX, REDIS_URL
from config.settings.components.scoring import (
    VALIDATOR_RECEIPT_PULL_S,
    VALIDATOR_SCORE_TICK_S,
    VALIDATOR_WEIGHTS_TICK_S,
)
from config.settings.components.verification import VALIDATOR_CYCLE_TICK_S

_ROLES = (NodeRole.FACILITATOR, NodeRole.VALIDATOR, NodeRole.MINER)
_DEFAULT_QUEUE = "celery"  # role "all" (tests, a single dev process) only


def role_queue(role: str) -> str:
    return str(role) if role in _ROLES else _DEFAULT_QUEUE


def task_routes(role: str) -> dict[str, dict[str, str]]:
    """One queue per role. A role app's tasks go to its role's queue; chain tasks (the metagraph
    sync runs on every role) go to the queue of the role whose process sends them, so each node's
    worker, consuming only its role's queue, runs its own chain work."""
    routes = {f"{name}.tasks.*": {"queue": name.value} for name in _ROLES}
    routes["chain.tasks.*"] = {"queue": role_queue(role)}
    routes["dht.tasks.*"] = {"queue": role_queue(role)}
    return routes


def task_queues(role: str) -> list[Queue]:
    """What a worker of this role consumes when started without `-Q` (compose, by hand)."""
    if role in _ROLES:
        return [Queue(str(role))]
    return [Queue(str(name)) for name in (*_ROLES, _DEFAULT_QUEUE)]


def _entry(task: str, seconds: float, *roles: str) -> dict[str, Any]:
    # Every entry expires at its interval so a backlog never piles up (a retry keeps the expiry).
    return {"task": task, "schedule": timedelta(seconds=seconds), "options": {"expires": seconds}, "roles": roles}


def beat_schedule(
    role: str,
    *,
    sync_interval_s: float,
    block_seconds: float,
    cycle_tick_s: float = 30.0,
    catalogue_sync_s: float = 60.0,
    specs_refresh_s: float = 3600.0,
    score_tick_s: float = 30.0,
    receipt_pull_s: float = 120.0,
    weights_tick_s: float = 30.0,
) -> dict[str, dict[str, Any]]:
    """The beat entries a node of `role` runs: each role only its own ("all" runs every entry)."""
    entries = {
        "facilitator-dispatch-pending": _entry("facilitator.tasks.dispatch_pending_jobs", 5, NodeRole.FACILITATOR),
        "facilitator-expire-stale": _entry("facilitator.tasks.expire_stale_jobs", 30, NodeRole.FACILITATOR),
        "facilitator-bill-storage": _entry("facilitator.tasks.bill_storage", 300, NodeRole.FACILITATOR),
        "validator-sync-miners": _entry("validator.tasks.sync_miners", 10, NodeRole.VALIDATOR),
        # Ticks: each runs the benchmark cycle (or newcomer run) that is due, if any.
        "validator-benchmark-cycle": _entry("validator.tasks.run_benchmark_cycle", cycle_tick_s, NodeRole.VALIDATOR),
        "validator-benchmark-newcomers": _entry(
            "validator.tasks.benchmark_newcomers", cycle_tick_s, NodeRole.VALIDATOR
        ),
        # Scores the last completed cycle once (its row is the claim), pending weights included.
        "validator-score-cycle": _entry("validator.tasks.score_cycle", score_tick_s, NodeRole.VALIDATOR),
        # Every miner's receipts, so this validator scores work it never saw.
        "validator-pull-receipts": _entry("validator.tasks.pull_receipts", receipt_pull_s, NodeRole.VALIDATOR),
        # Sends the newest cycle's weights (set, or committed for chain-reveal-weights to reveal).
        "validator-submit-weights": _entry("validator.tasks.submit_weights", weights_tick_s, NodeRole.VALIDATOR),
        # Storage (docs/storage.md): audits what is due (each share every STORAGE_AUDIT_INTERVAL_S),
        # then repairs what audits or the metagraph lost.
        "validator-storage-audit": _entry("validator.tasks.storage_audit", 30, NodeRole.VALIDATOR),
        "validator-storage-repair": _entry("validator.tasks.storage_repair", 60, NodeRole.VALIDATOR),
        "miner-sync-validators": _entry("miner.tasks.sync_validators", 10, NodeRole.MINER),
        "miner-refresh-host-specs": _entry("miner.tasks.refresh_host_specs", specs_refresh_s, NodeRole.MINER),
        # Sends held-back manifest additions once the minimum interval has passed.
        "miner-publish-manifest": _entry("miner.tasks.publish_manifest", 60, NodeRole.MINER),
        # Every role reads the metagraph (admission, routing); only validators set weights.
        "chain-sync-metagraph": _entry("chain.tasks.sync_metagraph", sync_interval_s, *_ROLES),
        # Every role applies the subnet owner's signed executor-class catalogue.
        "dht-catalogue-sync": _entry("dht.tasks.catalogue_sync", catalogue_sync_s, *_ROLES),
        "chain-reveal-weights": _entry("chain.tasks.reveal_weights", block_seconds, NodeRole.VALIDATOR),
    }
    return {
        name: {key: value for key, value in entry.items() if key != "roles"}
        for name, entry in entries.items()
        if role == NodeRole.ALL or role in entry["roles"]
    }


CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": f"{REDIS_PREFIX}:celery:"}
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
# Global limits; every task also sets its own, sized to its work (see the apps' tasks.py).
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 60
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ROUTES = task_routes(MESHWORK_ROLE)
CELERY_TASK_QUEUES = task_queues(MESHWORK_ROLE)
CELERY_TASK_DEFAULT_QUEUE = role_queue(MESHWORK_ROLE)
CELERY_BEAT_SCHEDULE = beat_schedule(
    MESHWORK_ROLE,
    sync_interval_s=CHAIN_SYNC_INTERVAL_S,
    block_seconds=CHAIN_BLOCK_SECONDS,
    cycle_tick_s=VALIDATOR_CYCLE_TICK_S,
    catalogue_sync_s=CATALOGUE_SYNC_S,
    specs_refresh_s=MINER_SPECS_REFRESH_S,
    score_tick_s=VALIDATOR_SCORE_TICK_S,
    receipt_pull_s=VALIDATOR_RECEIPT_PULL_S,
    weights_tick_s=VALIDATOR_WEIGHTS_TICK_S,
)
