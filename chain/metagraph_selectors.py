"""Reads of the synced metagraph: Postgres only, safe on any hot path."""

from chain.interface import Neuron, Role
from chain.models import MetagraphNeuron, MetagraphSnapshot


def metagraph_snapshot(*, chain: str, netuid: int) -> MetagraphSnapshot | None:
    return MetagraphSnapshot.objects.filter(chain=chain, netuid=netuid, synced_at__isnull=False).first()


def metagraph_neurons(*, chain: str, netuid: int) -> list[Neuron] | None:
    """The subnet's nodes as last synced, or None if it was never synced."""
    snapshot = metagraph_snapshot(chain=chain, netuid=netuid)
    if snapshot is None:
        return None
    return [_neuron(row) for row in snapshot.neurons.order_by("uid")]


def metagraph_neuron(*, chain: str, netuid: int, hotkey: str) -> Neuron | None:
    row = MetagraphNeuron.objects.filter(
        snapshot__chain=chain, snapshot__netuid=netuid, snapshot__synced_at__isnull=False, hotkey=hotkey
    ).first()
    return _neuron(row) if row else None


def _neuron(row: MetagraphNeuron) -> Neuron:
    return Neuron(
        uid=row.uid,
        hotkey=row.hotkey,
        coldkey=row.coldkey,
        stake=int(row.stake),
        role=Role(row.role),
        address=row.address or None,
        validator_permit=row.validator_permit,
        peer_id=row.peer_id,
        last_update=row.last_update,
        classification=row.classification,
    )
