"""Reading a subtensor subnet at one block: the metagraph and the weight-setting rules."""

from dataclasses import dataclass
from typing import Any

from substrateinterface import SubstrateInterface

from chain.interface import ChainError, MalformedResponse, Metagraph, Neuron, Role
from chain.substrate.axon import format_address
from chain.substrate.connection import chain_head

PALLET = "SubtensorModule"


@dataclass(frozen=True)
class WeightsPolicy:
    block: int
    commit_reveal: bool
    rate_limit: int
    version_key: int
    tempo: int


def _value(si: SubstrateInterface, name: str, params: list[Any], block_hash: str) -> Any:
    return si.query(PALLET, name, params, block_hash=block_hash).value


def ensure_subnet(si: SubstrateInterface, netuid: int, block_hash: str) -> None:
    if not _value(si, "NetworksAdded", [netuid], block_hash):
        raise ChainError(f"subnet {netuid} does not exist", name="SubnetNotExists")


def read_policy(si: SubstrateInterface, netuid: int) -> WeightsPolicy:
    block_hash, block = chain_head(si)
    ensure_subnet(si, netuid, block_hash)
    return WeightsPolicy(
        block=block,
        commit_reveal=bool(_value(si, "CommitRevealWeightsEnabled", [netuid], block_hash)),
        rate_limit=int(_value(si, "WeightsSetRateLimit", [netuid], block_hash)),
        version_key=int(_value(si, "WeightsVersionKey", [netuid], block_hash)),
        tempo=int(_value(si, "Tempo", [netuid], block_hash)),
    )


def read_uids(si: SubstrateInterface, netuid: int, hotkeys: list[str]) -> dict[str, int]:
    """uid of each registered hotkey (unregistered ones are left out)."""
    if not hotkeys:
        return {}
    keys = [si.create_storage_key(PALLET, "Uids", [netuid, hotkey]) for hotkey in hotkeys]
    found = {}
    for key, value in si.query_multi(keys):
        if value.value is not None:
            found[str(key.params[1])] = int(value.value)
    return found


def read_last_update(si: SubstrateInterface, netuid: int, uid: int) -> int:
    updates = si.query(PALLET, "LastUpdate", [netuid]).value or []
    return int(updates[uid]) if uid < len(updates) else 0


def read_next_serve_block(si: SubstrateInterface, netuid: int, hotkey: str) -> int:
    axon = si.query(PALLET, "Axons", [netuid, hotkey]).value or {}
    return int(axon.get("block", 0)) + int(si.query(PALLET, "ServingRateLimit", [netuid]).value)


def read_commits(si: SubstrateInterface, netuid: int, hotkey: str) -> list[tuple[str, int, int, int]]:
    """Pending (hash, commit_block, first_reveal_block, last_reveal_block) of `hotkey`."""
    commits = si.query(PALLET, "WeightCommits", [netuid, hotkey]).value or []
    return [(str(c[0]), int(c[1]), int(c[2]), int(c[3])) for c in commits]


def read_metagraph(si: SubstrateInterface, *, netuid: int, min_validator_stake: int) -> Metagraph:
    block_hash, block = chain_head(si)
    ensure_subnet(si, netuid, block_hash)
    hotkeys = {
        int(uid.value): str(hk.value) for uid, hk in si.query_map(PALLET, "Keys", [netuid], block_hash=block_hash)
    }
    axons = {str(hk.value): ax.value for hk, ax in si.query_map(PALLET, "Axons", [netuid], block_hash=block_hash)}
    permits = _value(si, "ValidatorPermit", [netuid], block_hash) or []
    last_update = _value(si, "LastUpdate", [netuid], block_hash) or []
    owners, stakes = _owners_and_stakes(si, netuid, list(hotkeys.values()), block_hash)
    neurons = []
    for uid in sorted(hotkeys):
        hotkey = hotkeys[uid]
        axon = axons.get(hotkey) or {}
        permit = bool(permits[uid]) if uid < len(permits) else False
        stake = stakes.get(hotkey, 0)
        neurons.append(
            Neuron(
                uid=uid,
                hotkey=hotkey,
                coldkey=owners.get(hotkey, ""),
                stake=stake,
                role=Role.VALIDATOR if permit and stake >= min_validator_stake else Role.MINER,
                address=format_address(
                    ip=int(axon.get("ip", 0)), port=int(axon.get("port", 0)), ip_type=int(axon.get("ip_type", 4))
                ),
                validator_permit=permit,
                last_update=int(last_update[uid]) if uid < len(last_update) else 0,
            )
        )
    if len(set(hotkeys.values())) != len(hotkeys):
        raise MalformedResponse(f"subnet {netuid}: one hotkey holds two uids at block {block}")
    return Metagraph(
        netuid=netuid,
        block=block,
        tempo=int(_value(si, "Tempo", [netuid], block_hash)),
        neurons=neurons,
        commit_reveal=bool(_value(si, "CommitRevealWeightsEnabled", [netuid], block_hash)),
        weights_rate_limit=int(_value(si, "WeightsSetRateLimit", [netuid], block_hash)),
        weights_version=int(_value(si, "WeightsVersionKey", [netuid], block_hash)),
    )


def _owners_and_stakes(
    si: SubstrateInterface, netuid: int, hotkeys: list[str], block_hash: str
) -> tuple[dict[str, str], dict[str, int]]:
    """Coldkey (`Owner`) and stake on this subnet (`TotalHotkeyAlpha`, in rao) of every hotkey, in one RPC."""
    if not hotkeys:
        return {}, {}
    keys = [si.create_storage_key(PALLET, "Owner", [hk]) for hk in hotkeys]
    keys += [si.create_storage_key(PALLET, "TotalHotkeyAlpha", [hk, netuid]) for hk in hotkeys]
    owners: dict[str, str] = {}
    stakes: dict[str, int] = {}
    for key, value in si.query_multi(keys, block_hash=block_hash):
        hotkey = str(key.params[0])
        if key.storage_function == "Owner":
            owners[hotkey] = str(value.value)
        else:
            stakes[hotkey] = int(value.value or 0)
    return owners, stakes
