"""Reading Hypertensor's `Network` pallet at one block."""

from dataclasses import dataclass
from typing import Any

from substrateinterface import SubstrateInterface

from chain.hypertensor.identity import from_multiaddr, identity_of
from chain.interface import ChainError, Metagraph, Neuron, NodeClass, Role
from chain.substrate.connection import chain_head

PALLET = "Network"


@dataclass(frozen=True)
class Subnet:
    id: int
    name: str
    state: str
    start_epoch: int


@dataclass(frozen=True)
class SubnetNode:
    id: int
    account: str  # the chain hotkey, 0x-hex
    peer_id: str
    node_class: str  # a NodeClass value; kept as text so a class added by a runtime upgrade still reads
    start_epoch: int
    bootnode: str | None
    unique: str | None


def read_subnets(si: SubstrateInterface) -> list[Subnet]:
    block_hash, _ = chain_head(si)
    return [
        Subnet(id=int(v["id"]), name=str(v["name"]), state=str(v["state"]), start_epoch=int(v["start_epoch"]))
        for _, v in ((k, d.value) for k, d in si.query_map(PALLET, "SubnetsData", block_hash=block_hash))
    ]


def _node(value: dict[str, Any]) -> SubnetNode:
    classification = value["classification"]
    return SubnetNode(
        id=int(value["id"]),
        account=str(value["hotkey"]).lower(),
        peer_id=str(value["peer_id"]),
        node_class=str(classification["node_class"]),
        start_epoch=int(classification["start_epoch"]),
        bootnode=value.get("bootnode"),
        unique=value.get("unique"),
    )


def read_nodes(si: SubstrateInterface, subnet_id: int, block_hash: str) -> list[SubnetNode]:
    """Active nodes (SubnetNodesData) and queued ones (RegisteredSubnetNodesData, class Registered)."""
    nodes = {}
    for item in ("RegisteredSubnetNodesData", "SubnetNodesData"):  # an active entry wins
        for _, data in si.query_map(PALLET, item, [subnet_id], block_hash=block_hash):
            node = _node(data.value)
            nodes[node.id] = node
    return [nodes[i] for i in sorted(nodes)]


def read_node_id(si: SubstrateInterface, subnet_id: int, account: str) -> int | None:
    value = si.query(PALLET, "HotkeySubnetNodeId", [subnet_id, account]).value
    return None if value is None else int(value)


def read_metagraph(si: SubstrateInterface, *, subnet_id: int) -> Metagraph:
    block_hash, block = chain_head(si)
    if si.query(PALLET, "SubnetsData", [subnet_id], block_hash=block_hash).value is None:
        raise ChainError(f"subnet {subnet_id} does not exist", name="InvalidSubnetId")
    nodes = read_nodes(si, subnet_id, block_hash)
    keys = [si.create_storage_key(PALLET, "AccountSubnetStake", [n.account, subnet_id]) for n in nodes]
    keys += [si.create_storage_key(PALLET, "HotkeyOwner", [n.account]) for n in nodes]
    stakes: dict[str, int] = {}
    owners: dict[str, str] = {}
    for key, value in si.query_multi(keys, block_hash=block_hash) if keys else []:
        account = str(key.params[0]).lower()
        if key.storage_function == "AccountSubnetStake":
            stakes[account] = int(value.value or 0)
        else:
            owners[account] = str(value.value or "").lower()
    neurons = [
        Neuron(
            uid=n.id,
            hotkey=identity_of(unique=n.unique, account=n.account),
            coldkey=owners.get(n.account, ""),
            stake=stakes.get(n.account, 0),
            role=Role.VALIDATOR if n.node_class == NodeClass.VALIDATOR else Role.MINER,
            address=from_multiaddr(n.bootnode),
            peer_id=n.peer_id,
            last_update=n.start_epoch,
            classification=n.node_class,
        )
        for n in nodes
    ]
    epoch_length = si.get_constant(PALLET, "EpochLength", block_hash=block_hash)
    return Metagraph(
        netuid=subnet_id, block=block, tempo=int(epoch_length.value if epoch_length else 0), neurons=neurons
    )
