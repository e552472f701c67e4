"""Reads of what the chain said, from Postgres only (never the network): safe on any hot path.

Every caller outside `chain/` reads the subnet through `chain_neurons()` / `chain_neuron()`: for
LocalChain these read its tables (its state), for a real chain the metagraph the sync stored."""

from django.conf import settings
from django.db.models import QuerySet

from chain.client import chain_client
from chain.interface import Neuron, Role
from chain.models import LocalNeuron, LocalSubnet, MetagraphNeuron, MetagraphSnapshot, WeightCommit
from protocol.tunables import tunable
from protocol.version import version_from_int


def chain_neurons() -> list[Neuron]:
    """Every node of the configured subnet; empty for a real chain never synced on this node."""
    client = chain_client()
    if client.synced:
        return metagraph_neurons(chain=client.name, netuid=client.netuid) or []
    return local_neurons(netuid=client.netuid)


def chain_neuron(*, hotkey: str) -> Neuron | None:
    client = chain_client()
    if client.synced:
        return metagraph_neuron(chain=client.name, netuid=client.netuid, hotkey=hotkey)
    return local_neuron(netuid=client.netuid, hotkey=hotkey)


class ChainNeurons:
    """`chain_neurons()` as an object with `neurons()`, for code that takes such a source (the DHT's
    stake table and bootnodes)."""

    def neurons(self) -> list[Neuron]:
        return chain_neurons()


def chain_validator_refusal(hotkey: str) -> str | None:
    """None if `hotkey` is a registered validator with enough stake, else the reason it is not."""
    client = chain_client()
    neuron = chain_neuron(hotkey=hotkey)
    if neuron is None:
        if client.synced and metagraph_snapshot(chain=client.name, netuid=client.netuid) is None:
            return f"{hotkey} cannot be checked: the {client.name} subnet {client.netuid} was never synced on this node"
        return f"{hotkey} is not registered on subnet {settings.CHAIN_NETUID}"
    if neuron.role != Role.VALIDATOR:
        return f"{hotkey} is registered as a {neuron.role}, not a validator"
    minimum = tunable("MIN_VALIDATOR_STAKE")
    if neuron.stake < minimum:
        return f"{hotkey} has stake {neuron.stake} < minimum {minimum}"
    return None


def chain_min_version() -> str | None:
    """The lowest node version the subnet accepts (its weights version key), None if it sets none:
    from the synced metagraph for a real chain, from LocalChain's subnet row otherwise."""
    client = chain_client()
    if client.synced:
        snapshot = metagraph_snapshot(chain=client.name, netuid=client.netuid)
        key = 0 if snapshot is None else snapshot.weights_version
    else:
        key = LocalSubnet.objects.filter(netuid=client.netuid).values_list("weights_version", flat=True).first() or 0
    return version_from_int(key) if key else None


# --- LocalChain's tables (its state)


def local_neurons(*, netuid: int) -> list[Neuron]:
    rows = LocalNeuron.objects.filter(subnet_id=netuid).order_by("uid")
    return [local_neuron_from_row(row) for row in rows]


def local_neuron(*, netuid: int, hotkey: str) -> Neuron | None:
    row = LocalNeuron.objects.filter(subnet_id=netuid, hotkey=hotkey).first()
    return local_neuron_from_row(row) if row else None


def local_neuron_from_row(row: LocalNeuron) -> Neuron:
    return Neuron(
        uid=row.uid,
        hotkey=row.hotkey,
        coldkey=row.coldkey,
        stake=row.stake,
        role=Role(row.role),
        address=row.address or None,
        last_update=row.last_update or 0,
    )


# --- the metagraph synced from a real chain


def metagraph_snapshot(*, chain: str, netuid: int) -> MetagraphSnapshot | None:
    return MetagraphSnapshot.objects.filter(chain=chain, netuid=netuid, synced_at__isnull=False).first()


def metagraph_neurons(*, chain: str, netuid: int) -> list[Neuron] | None:
    """The subnet's nodes as last synced, or None if it was never synced."""
    snapshot = metagraph_snapshot(chain=chain, netuid=netuid)
    if snapshot is None:
        return None
    return [_metagraph_neuron(row) for row in snapshot.neurons.order_by("uid")]


def metagraph_neuron(*, chain: str, netuid: int, hotkey: str) -> Neuron | None:
    row = MetagraphNeuron.objects.filter(
        snapshot__chain=chain, snapshot__netuid=netuid, snapshot__synced_at__isnull=False, hotkey=hotkey
    ).first()
    return _metagraph_neuron(row) if row else None


def _metagraph_neuron(row: MetagraphNeuron) -> Neuron:
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


# --- weight commits waiting for their reveal


def weight_commits_open_exist(*, chain: str, netuid: int) -> bool:
    return WeightCommit.objects.filter(
        chain=chain, netuid=netuid, status__in=[WeightCommit.Status.COMMITTING, WeightCommit.Status.COMMITTED]
    ).exists()


def weight_commits_unconfirmed(*, chain: str, netuid: int) -> QuerySet[WeightCommit]:
    """Saved, but whether the commit landed is unknown (the process stopped while sending it)."""
    return WeightCommit.objects.filter(chain=chain, netuid=netuid, status=WeightCommit.Status.COMMITTING).order_by("id")


def weight_commits_due(*, chain: str, netuid: int, block: int) -> QuerySet[WeightCommit]:
    return WeightCommit.objects.filter(
        chain=chain, netuid=netuid, status=WeightCommit.Status.COMMITTED, reveal_from_block__lte=block
    ).order_by("id")


def weight_commit_by_hash(*, chain: str, netuid: int, commit_hash: str) -> WeightCommit | None:
    """The newest commit with this hash (a hash is unique in practice: it covers a random salt)."""
    return WeightCommit.objects.filter(chain=chain, netuid=netuid, commit_hash=commit_hash).order_by("-id").first()
