"""HypertensorChain: Hypertensor's `Network` pallet through substrate-interface (Ethereum-style keys).

A plain client like SubtensorChain: it talks to the node, never to Postgres. A node's Meshwork
hotkey is the SS58 it registered as its `unique` parameter (see chain.hypertensor.identity)."""

import re
from collections.abc import Callable, Mapping
from typing import Any

from substrateinterface import Keypair

from chain.hypertensor.identity import derived_peer_ids, require_account, to_multiaddr
from chain.hypertensor.reads import PALLET, read_metagraph, read_node_id
from chain.interface import ChainError, Metagraph, Neuron, NotRegistered, Role
from chain.substrate.connection import SubstrateConnection, chain_head
from chain.substrate.extrinsics import Receipt, account_id, submit
from chain.substrate.keyring import KeyRing
from chain.substrate.synced import DEFAULT_BLOCK_SECONDS, SyncedChain
from protocol.keys import is_ss58

DEFAULT_MAX_BURN = 10**20  # the most a registration may burn (18 decimals: 100 TENSOR)


class HypertensorChain(SyncedChain):
    name = "hypertensor"
    coldkey_formats = "an SS58 or 0x address"

    def __init__(
        self,
        *,
        endpoint: str = "",
        subnet_id: int = 1,
        keyring: KeyRing | Callable[[], KeyRing] | None = None,
        connection: SubstrateConnection | None = None,
        max_burn: int = DEFAULT_MAX_BURN,
        timeout_s: float = 10.0,
        retries: int = 3,
        block_seconds: float = DEFAULT_BLOCK_SECONDS,
    ) -> None:
        super().__init__(
            connection=connection or SubstrateConnection(url=endpoint, timeout_s=timeout_s, retries=retries),
            keyring=keyring,
            block_seconds=block_seconds,
        )
        self.netuid = subnet_id
        self.max_burn = max_burn

    def valid_coldkey(self, coldkey: str) -> bool:
        """SS58, or a 20-byte Ethereum-style account (0x + 40 hex)."""
        return is_ss58(coldkey) or re.fullmatch(r"0x[0-9a-fA-F]{40}", coldkey) is not None

    def current_block(self) -> int:
        return self.connection.read(lambda si: chain_head(si)[1])

    def fetch_metagraph(self) -> Metagraph:
        return self.connection.read(lambda si: read_metagraph(si, subnet_id=self.netuid))

    def register(self, *, hotkey: str, coldkey: str, role: Role) -> Neuron:
        """register_subnet_node, signed by the coldkey, for this node's chain hotkey, binding the
        Meshwork `hotkey` as the node's unique parameter and staking the subnet's minimum. The node
        waits in the registration queue (class Registered) until the runtime activates it."""
        signer = self.keyring.signer(require_account(coldkey), purpose="register_subnet_node")
        chain_hotkey = account_id(self.keyring.hotkey_signer(purpose="register_subnet_node"))
        if self.connection.read(lambda si: read_node_id(si, self.netuid, chain_hotkey)) is None:
            min_stake = self.connection.read(
                lambda si: int(si.query(PALLET, "SubnetMinStakeBalance", [self.netuid]).value)
            )
            peer_ids = derived_peer_ids(hotkey)
            params = {
                "subnet_id": self.netuid,
                "hotkey": chain_hotkey,
                "peer_id": peer_ids["peer"],
                "bootnode_peer_id": peer_ids["bootnode"],
                "client_peer_id": peer_ids["client"],
                "bootnode": None,
                "delegate_reward_rate": 0,
                "stake_to_be_added": min_stake,
                "unique": hotkey,
                "non_unique": None,
                "max_burn_amount": self.max_burn,
            }
            self.submit(signer, "register_subnet_node", params)
        neuron = self.fetch_metagraph().neuron(hotkey)
        if neuron is None:
            raise ChainError(f"{hotkey} is not in subnet {self.netuid} after registering", name="NotInMetagraph")
        return neuron

    def serve(self, *, hotkey: str, address: str) -> None:
        """update_bootnode with the address as a multiaddr, signed by the node's coldkey (its owner)."""
        node_id = self._own_node_id(hotkey, purpose="update_bootnode")
        signer = self.keyring.coldkey_signer(purpose="update_bootnode")
        params = {"subnet_id": self.netuid, "subnet_node_id": node_id, "new_bootnode": to_multiaddr(address)}
        self.submit(signer, "update_bootnode", params)

    def add_stake(self, *, hotkey: str, amount: int) -> None:
        if amount <= 0:
            raise ChainError("stake amount must be positive", name="AmountTooLow")
        neuron = self.fetch_metagraph().neuron(hotkey)  # its node id, as the chain has it now
        if neuron is None:
            raise NotRegistered(f"{hotkey} is not a node of subnet {self.netuid}", name="InvalidSubnetNodeId")
        chain_hotkey = account_id(self.keyring.hotkey_signer(purpose="add_stake"))
        params = {
            "subnet_id": self.netuid,
            "subnet_node_id": neuron.uid,
            "hotkey": chain_hotkey,
            "stake_to_be_added": amount,
        }
        self.submit(self.keyring.coldkey_signer(purpose="add_stake"), "add_stake", params)

    def set_weights(self, *, hotkey: str, weights: dict[str, float]) -> None:
        raise ChainError(
            "Hypertensor has no per-validator weights: the elected validator proposes scores "
            "(propose_attestation), which Meshwork does not submit yet",
            name="Unsupported",
        )

    def submit(self, signer: Keypair, function: str, params: Mapping[str, Any]) -> Receipt:
        return self.connection.write(
            lambda si: submit(si, signer=signer, pallet=PALLET, function=function, params=params)
        )

    def _own_node_id(self, hotkey: str, *, purpose: str) -> int:
        chain_hotkey = account_id(self.keyring.hotkey_signer(purpose=purpose))
        node_id = self.connection.read(lambda si: read_node_id(si, self.netuid, chain_hotkey))
        if node_id is None:
            raise NotRegistered(f"{hotkey} is not a node of subnet {self.netuid}", name="InvalidSubnetNodeId")
        return node_id
