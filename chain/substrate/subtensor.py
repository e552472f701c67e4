"""SubtensorChain: Bittensor's subtensor through substrate-interface.

Reads of the subnet (`neurons`, `neuron`) come from the copy in Postgres that the metagraph sync
keeps fresh; `fetch_metagraph`, `current_block` and the writes talk to the node."""

import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from substrateinterface import Keypair

from chain.interface import ChainError, Metagraph, Neuron, NotRegistered, RateLimited, Role
from chain.metagraph_selectors import metagraph_neuron
from chain.services.metagraph import metagraph_sync
from chain.substrate import commit_reveal
from chain.substrate.axon import parse_address
from chain.substrate.connection import SubstrateConnection
from chain.substrate.extrinsics import Receipt, submit
from chain.substrate.keyring import KeyRing
from chain.substrate.subtensor_reads import (
    PALLET,
    WeightsPolicy,
    head,
    read_last_update,
    read_metagraph,
    read_next_serve_block,
    read_policy,
    read_uids,
)
from chain.substrate.synced import SyncedChain
from chain.substrate.weights import normalize_u16
from protocol.keys import is_ss58

logger = logging.getLogger(__name__)
AXON_VERSION = 1  # Meshwork's wire protocol version, announced with the address
AXON_PROTOCOL = 4  # subtensor's code for "other" (neither HTTP nor gRPC)


class SubtensorChain(SyncedChain):
    name = "subtensor"

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        netuid: int | None = None,
        keyring: KeyRing | None = None,
        connection: SubstrateConnection | None = None,
    ) -> None:
        self.netuid = settings.CHAIN_NETUID if netuid is None else netuid
        self.connection = connection or SubstrateConnection(
            url=endpoint or settings.CHAIN_ENDPOINT, timeout_s=settings.CHAIN_TIMEOUT_S, retries=settings.CHAIN_RETRIES
        )
        self._keyring = keyring

    # --- reads
    def current_block(self) -> int:
        return self.connection.read(lambda si: head(si)[1])

    def fetch_metagraph(self) -> Metagraph:
        return self.connection.read(
            lambda si: read_metagraph(si, netuid=self.netuid, min_validator_stake=settings.MIN_VALIDATOR_STAKE)
        )

    def policy(self) -> WeightsPolicy:
        return self.connection.read(lambda si: read_policy(si, self.netuid))

    # --- writes
    def register(self, *, hotkey: str, coldkey: str, role: Role) -> Neuron:
        """burned_register, signed by the coldkey; a hotkey already registered to it is left as is.
        Subtensor has no roles: a node is a validator once it has a permit and enough stake."""
        signer = self.keyring.signer(coldkey, purpose="burned_register")
        if hotkey not in self.connection.read(lambda si: read_uids(si, self.netuid, [hotkey])):
            self.submit(signer, "burned_register", {"netuid": self.netuid, "hotkey": hotkey})
        metagraph_sync(client=self, force=True)
        neuron = metagraph_neuron(chain=self.name, netuid=self.netuid, hotkey=hotkey)
        if neuron is None:
            raise ChainError(f"{hotkey} is not in subnet {self.netuid} after registering", name="NotInMetagraph")
        if neuron.coldkey != coldkey:
            raise ChainError(f"{hotkey} is registered to another coldkey", name="HotKeyAlreadyRegistered")
        return neuron

    def serve(self, *, hotkey: str, address: str) -> None:
        signer = self.keyring.signer(hotkey, purpose="serve_axon")
        axon = parse_address(address)
        params = {
            "netuid": self.netuid,
            "version": AXON_VERSION,
            "ip": axon.ip,
            "port": axon.port,
            "ip_type": axon.ip_type,
            "protocol": AXON_PROTOCOL,
            "placeholder1": 0,
            "placeholder2": 0,
        }
        try:
            self.submit(signer, "serve_axon", params)
        except RateLimited as exc:
            exc.retry_at_block = self.connection.read(lambda si: read_next_serve_block(si, self.netuid, hotkey))
            raise
        metagraph_sync(client=self, force=True)

    def add_stake(self, *, hotkey: str, amount: int) -> None:
        if amount <= 0:
            raise ChainError("stake amount must be positive", name="AmountTooLow")
        signer = self.keyring.coldkey_signer(purpose="add_stake")
        self.submit(signer, "add_stake", {"hotkey": hotkey, "netuid": self.netuid, "amount_staked": amount})
        metagraph_sync(client=self, force=True)

    def set_weights(self, *, hotkey: str, weights: dict[str, float]) -> None:
        """set_weights, or commit_weights when the subnet requires commit-reveal (revealed later by
        `reveal_pending_weights`). Hotkeys no longer registered are left out."""
        signer = self.keyring.signer(hotkey, purpose="set_weights")
        targets = [target for target in weights if is_ss58(target)]
        policy, uids = self.connection.read(
            lambda si: (read_policy(si, self.netuid), read_uids(si, self.netuid, [hotkey, *targets]))
        )
        if hotkey not in uids:
            raise NotRegistered(
                f"{hotkey} is not registered on subnet {self.netuid}", name="HotKeyNotRegisteredInSubNet"
            )
        by_uid: dict[int, float] = {}
        for target, weight in weights.items():
            if target in uids:
                by_uid[uids[target]] = by_uid.get(uids[target], 0.0) + weight
            else:
                logger.info("chain: %s is not registered on subnet %d; no weight for it", target, self.netuid)
        dests, values = normalize_u16(by_uid)
        try:
            if policy.commit_reveal:
                commit_reveal.commit(self, signer=signer, hotkey=hotkey, uids=dests, values=values, policy=policy)
            else:
                params = {"netuid": self.netuid, "dests": dests, "weights": values, "version_key": policy.version_key}
                self.submit(signer, "set_weights", params)
        except RateLimited as exc:
            if exc.retry_at_block is None:
                last = self.connection.read(lambda si: read_last_update(si, self.netuid, uids[hotkey]))
                exc.retry_at_block = last + policy.rate_limit
            raise

    def reveal_pending_weights(self) -> int:
        return commit_reveal.reveal_due(self)

    # --- plumbing
    def submit(self, signer: Keypair, function: str, params: Mapping[str, Any]) -> Receipt:
        return self.connection.write(
            lambda si: submit(si, signer=signer, pallet=PALLET, function=function, params=params)
        )
