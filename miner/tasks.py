"""The miner's periodic work. Thin: one service each."""

from celery import shared_task

from chain.task_options import chain_read_task
from miner.services.access import validators_sync_from_chain
from miner.services.manifest import manifest_publish
from miner.specs import host_specs_refresh_sync
from protocol.identity import node_hotkey


@chain_read_task  # retried while the chain is unreachable; idempotent
def sync_validators() -> int:
    return validators_sync_from_chain()


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)  # one probe container per host
def refresh_host_specs() -> int:
    return host_specs_refresh_sync(owner=node_hotkey().ss58)


@shared_task(acks_late=True, soft_time_limit=30, time_limit=60)  # sends additions held back
def publish_manifest() -> bool:
    return manifest_publish()[1]
