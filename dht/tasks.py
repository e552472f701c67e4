"""Celery tasks of the DHT app (every role): thin, one service call each."""

from celery import shared_task
from django.conf import settings

from dht.catalogue import catalogue_sync as catalogue_sync_service
from protocol.identity import node_ss58_or_empty


# Idempotent (acks_late): applying is guarded by the catalogue version under a row lock.
@shared_task(ignore_result=True, acks_late=True, soft_time_limit=30, time_limit=60)
def catalogue_sync() -> int | None:
    """Apply the newest verified catalogue (or, on the owner's node, publish table edits)."""
    return catalogue_sync_service(
        holder=node_ss58_or_empty(), owner=settings.SUBNET_OWNER_HOTKEY, netuid=settings.CHAIN_NETUID
    )
