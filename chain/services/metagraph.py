"""Keeps each real chain's metagraph in Postgres: a scheduled read, stored in one transaction, with
exponential backoff after failures. Everything else reads the stored copy (chain.selectors).

The client only reads the chain (`fetch_metagraph`); storing what it returned is done here."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from chain.client import chain_client
from chain.interface import ChainClient, ChainError, Metagraph, Neuron
from chain.models import MetagraphNeuron, MetagraphSnapshot
from chain.selectors import metagraph_snapshot
from chain.substrate.backoff import backoff_delay

logger = logging.getLogger(__name__)


def metagraph_sync(*, client: ChainClient, force: bool = False) -> MetagraphSnapshot | None:
    """Read the subnet from the chain and store it, unless not due yet (None); raises ChainError."""
    if not client.synced:
        return None
    now = timezone.now()
    snapshot, _ = MetagraphSnapshot.objects.get_or_create(
        chain=client.name, netuid=client.netuid, defaults={"next_sync_at": now}
    )
    interval = timedelta(seconds=settings.CHAIN_SYNC_INTERVAL_S)
    # Claim the round with a conditional update: of several workers, one reads the chain.
    claimed = MetagraphSnapshot.objects.filter(pk=snapshot.pk, next_sync_at__lte=now).update(
        next_sync_at=now + interval
    )
    if not claimed and not force:
        return None
    try:
        metagraph = client.fetch_metagraph()
    except ChainError as exc:
        _record_failure(snapshot.pk, exc)
        raise
    return metagraph_store(chain=client.name, metagraph=metagraph)


def _record_failure(pk: int, exc: ChainError) -> None:
    snapshot = MetagraphSnapshot.objects.get(pk=pk)
    failures = snapshot.failures + 1
    delay = backoff_delay(failures, base_s=settings.CHAIN_SYNC_INTERVAL_S, cap_s=settings.CHAIN_SYNC_MAX_BACKOFF_S)
    MetagraphSnapshot.objects.filter(pk=pk).update(
        failures=F("failures") + 1,
        last_error=f"{exc.name}: {exc}"[:2000],
        next_sync_at=timezone.now() + timedelta(seconds=delay),
    )
    logger.warning(
        "chain: metagraph sync of %s subnet %d failed (%d in a row), next try in %.0fs: %s: %s",
        snapshot.chain,
        snapshot.netuid,
        failures,
        delay,
        exc.name,
        exc,
    )


def metagraph_store(*, chain: str, metagraph: Metagraph) -> MetagraphSnapshot:
    now = timezone.now()
    with transaction.atomic():
        snapshot, _ = MetagraphSnapshot.objects.select_for_update().get_or_create(
            chain=chain, netuid=metagraph.netuid, defaults={"next_sync_at": now}
        )
        if snapshot.synced_at is not None and metagraph.block < snapshot.block:
            return snapshot  # a slower, older read lost the race: keep the newer one
        snapshot.block = metagraph.block
        snapshot.tempo = metagraph.tempo
        snapshot.commit_reveal = metagraph.commit_reveal
        snapshot.weights_rate_limit = metagraph.weights_rate_limit
        snapshot.weights_version = metagraph.weights_version
        snapshot.synced_at = now
        snapshot.failures = 0
        snapshot.last_error = ""
        snapshot.next_sync_at = now + timedelta(seconds=settings.CHAIN_SYNC_INTERVAL_S)
        snapshot.save()
        snapshot.neurons.all().delete()
        MetagraphNeuron.objects.bulk_create(_row(snapshot, n) for n in metagraph.neurons)
    return snapshot


def _row(snapshot: MetagraphSnapshot, neuron: Neuron) -> MetagraphNeuron:
    announced = neuron.address or ""
    return MetagraphNeuron(
        snapshot=snapshot,
        uid=neuron.uid,
        hotkey=neuron.hotkey,
        coldkey=neuron.coldkey,
        stake=neuron.stake,
        role=neuron.role,
        address=settings.CHAIN_ADDRESS_OVERRIDES.get(neuron.hotkey, announced),
        announced_address=announced,
        validator_permit=neuron.validator_permit,
        peer_id=neuron.peer_id,
        last_update=neuron.last_update,
        classification=neuron.classification,
    )


def metagraph_sync_at_startup() -> None:
    """A node on a remote chain reads the metagraph once before it serves, so admission and
    routing do not wait for the first scheduled sync. Nothing to do for LocalChain."""
    client = chain_client()
    if client.synced:
        metagraph_sync(client=client, force=True)


def metagraph_ensure(*, client: ChainClient) -> None:
    """Sync once if this node never synced the subnet (a command run before any worker)."""
    if client.synced and metagraph_snapshot(chain=client.name, netuid=client.netuid) is None:
        metagraph_sync(client=client, force=True)
