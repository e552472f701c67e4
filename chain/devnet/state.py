"""Dev-only RPCs of Chopsticks: set storage (fund accounts, shape a subnet) and make blocks."""

from typing import Any

from substrateinterface import SubstrateInterface

MAX_SET_VALUE = 2**53 - 1  # Chopsticks takes storage values as JSON numbers


def set_storage(si: SubstrateInterface, changes: dict[str, dict[str, Any]]) -> None:
    """`changes` as Chopsticks takes it: {"Pallet": {"Item": value | [[[keys...], value], ...]}}."""
    si.rpc_request("dev_setStorage", [changes])


def fund(si: SubstrateInterface, accounts: list[str], amount: int) -> None:
    if amount <= 0:
        raise ValueError(f"balance {amount} must be positive")
    free: int | str = amount if amount <= MAX_SET_VALUE else str(amount)  # u128 balances as decimal text
    entries = [[[account], {"providers": 1, "data": {"free": free}}] for account in accounts]
    set_storage(si, {"System": {"Account": entries}})


def new_blocks(si: SubstrateInterface, count: int) -> int:
    """Build `count` blocks now; returns the new head's number."""
    si.rpc_request("dev_newBlock", [{"count": count}])
    return int(si.get_block_number(si.get_chain_head()))


def shape_subnet(
    si: SubstrateInterface,
    netuid: int,
    *,
    stable: bool | None = None,
    tempo: int | None = None,
    weights_rate_limit: int | None = None,
    commit_reveal: bool | None = None,
) -> None:
    """Subnet parameters a local network wants. `stable` makes stake 1:1 TAO to alpha (mechanism 0):
    netuid 1 of the spec-218 genesis has a 1-rao alpha pool, so dynamic staking yields no alpha."""
    items: dict[str, Any] = {}
    if stable is not None:
        items["SubnetMechanism"] = [[[netuid], 0 if stable else 1]]
    if tempo is not None:
        items["Tempo"] = [[[netuid], tempo]]
    if weights_rate_limit is not None:
        items["WeightsSetRateLimit"] = [[[netuid], weights_rate_limit]]
    if commit_reveal is not None:
        items["CommitRevealWeightsEnabled"] = [[[netuid], commit_reveal]]
    if items:
        set_storage(si, {"SubtensorModule": items})


def hypertensor_subnet(si: SubstrateInterface, subnet_id: int, *, owner: str, name: str, slot: int) -> None:
    """An active Hypertensor subnet written straight into storage (its own registration and
    activation, which need a bonded owner, delegate stake and minimum nodes, are not exercised):
    given an epoch slot, a delegate stake and no queue delay, so queued nodes get activated."""
    subnet = {
        "id": subnet_id,
        "friendly_id": subnet_id,
        "name": "0x" + name.encode().hex(),
        "repo": "0x",
        "description": "0x",
        "misc": "0x",
        "state": "Active",
        "start_epoch": 0,
    }
    items = {
        "SubnetsData": [[[subnet_id], subnet]],
        "TotalSubnetUids": subnet_id,
        "TotalActiveSubnets": 1,
        "SubnetOwner": [[[subnet_id], owner]],
        "SubnetNodeQueueEpochs": [[[subnet_id], 0]],
        "ChurnLimit": [[[subnet_id], 8]],
        "TotalSubnetDelegateStakeBalance": [[[subnet_id], str(10**24)]],
        "SubnetSlot": [[[subnet_id], slot]],
        "SlotAssignment": [[[slot], subnet_id]],
        "AssignedSlots": [slot],
    }
    set_storage(si, {"Network": items})
