"""The validator's miner registry, synced from the chain; routing reads only this table."""

import random
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from chain.interface import Role
from chain.selectors import chain_neurons
from dht.selectors import dht_miner_addresses, dht_routable_miners
from validator.models import Miner, MinerIncident

INCIDENT_WINDOW = timedelta(hours=1)


def miners_sync_from_chain() -> int:
    neurons = [n for n in chain_neurons() if n.role == Role.MINER]
    with transaction.atomic():
        for n in neurons:
            Miner.objects.update_or_create(
                hotkey=n.hotkey,
                defaults={
                    "coldkey": n.coldkey,
                    "uid": n.uid,
                    "address": n.address or "",
                    "stake": n.stake,
                    "is_active": True,
                },
            )
        Miner.objects.exclude(hotkey__in=[n.hotkey for n in neurons]).update(is_active=False)
    return len(neurons)


def miners_for_job(*, exclude: set[str]) -> list[Miner]:
    """Miners registered on the chain and alive in the DHT (when DHT_ROUTE_REQUIRE_HEARTBEAT),
    with an address from the chain or else from their heartbeat; fewest recent incidents first,
    ties shuffled so load spreads."""
    since = timezone.now() - INCIDENT_WINDOW
    registered = list(
        Miner.objects.filter(is_active=True)
        .exclude(hotkey__in=exclude)
        .annotate(recent=Count("incidents", filter=Q(incidents__at__gte=since)))
    )
    routable = dht_routable_miners(m.hotkey for m in registered)
    announced = dht_miner_addresses()
    miners = []
    for miner in registered:
        miner.address = miner.address or announced.get(miner.hotkey, "")
        if miner.hotkey in routable and miner.address:
            miners.append(miner)
    random.shuffle(miners)
    return sorted(miners, key=lambda m: m.recent)  # type: ignore[attr-defined]


def miner_incident_record(*, hotkey: str, job_uuid: str, reason: str) -> None:
    miner = Miner.objects.filter(hotkey=hotkey).first()
    if miner is not None:
        MinerIncident.objects.create(miner=miner, job_uuid=job_uuid, reason=reason[:64])
