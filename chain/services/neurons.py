"""Writes to the chain that change the subnet (register, serve, stake), each followed by a sync so
this node's stored metagraph shows them at once. On LocalChain the write is the state: no sync."""

from chain.interface import ChainClient, Neuron, Role
from chain.services.metagraph import metagraph_sync


def neuron_register(*, client: ChainClient, hotkey: str, coldkey: str, role: Role) -> Neuron:
    neuron = client.register(hotkey=hotkey, coldkey=coldkey, role=role)
    metagraph_sync(client=client, force=True)
    return neuron


def neuron_serve(*, client: ChainClient, hotkey: str, address: str) -> None:
    client.serve(hotkey=hotkey, address=address)
    metagraph_sync(client=client, force=True)


def neuron_stake_add(*, client: ChainClient, hotkey: str, amount: int) -> None:
    client.add_stake(hotkey=hotkey, amount=amount)
    metagraph_sync(client=client, force=True)
