"""SubtensorChain: Bittensor's subtensor through substrate-interface, as a plain client.

Every method talks to the node and returns what it said; nothing here touches Postgres (the
metagraph and weight commits are stored by `chain.services`)."""

import logging
from collections.abc import Callable, Mapping
from typing import Any

from substrateinterface import Keypair

from chain.interface import (
    ChainError,
    CommitRevealChain,
    CommitWindow,
    Metagraph,
    Neuron,
    NotRegistered,
    RateLimited,
    Role,
    WeightsPlan,
)
from chain.substrate.axon import parse_address
from chain.substrate.connection import SubstrateConnection, chain_head
from chain.substrate.extrinsics import Receipt, submit
from chain.substrate.keyring import KeyRing
from chain.substrate.subtensor_reads import (
    PALLET,
    WeightsPolicy,
    read_commits,
    read_last_update,
    read_metagraph,
    read_next_serve_block,
    read_policy,
    read_uids,
)
from chain.substrate.synced import DEFAULT_BLOCK_SECONDS, SyncedChain
from chain.substrate.weights import normalize_u16
from protocol.keys import is_ss58

logger = logging.getLogger(__name__)
AXON_VERSION = 1  # Meshwork's wire protocol version, announced with the address
AXON_PROTOCOL = 4  # subtensor's code for "other" (neither HTTP nor gRPC)
DEFAULT_MIN_VALIDATOR_STAKE = 1000  # rao; the factory passes settings.MIN_VALIDATOR_STAKE


class SubtensorChain(SyncedChain, CommitRevealChain):
    name = "subtensor"

    def __init__(
        self,
        *,
        endpoint: str = "",
        netuid: int = 1,
        keyring: KeyRing | Callable[[], KeyRing] | None = None,
        connection: SubstrateConnection | None = None,
        timeout_s: float = 10.0,
        retries: int = 3,
        block_seconds: float = DEFAULT_BLOCK_SECONDS,
        min_validator_stake: int = DEFAULT_MIN_VALIDATOR_STAKE,
    ) -> None:
        super().__init__(
            connection=connection or SubstrateConnection(url=endpoint, timeout_s=timeout_s, retries=retries),
            keyring=keyring,
            block_seconds=block_seconds,
        )
        self.netuid = netuid
        self.min_validator_stake = min_validator_stake

    # --- reads
    def current_block(self) -> int:
        return self.connection.read(lambda si: chain_head(si)[1])

    def fetch_metagraph(self) -> Metagraph:
        return self.connection.read(
            lambda si: read_metagraph(si, netuid=self.netuid, min_validator_stake=self.min_validator_stake)
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
        neuron = self.fetch_metagraph().neuron(hotkey)
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

    def add_stake(self, *, hotkey: str, amount: int) -> None:
        if amount <= 0:
            raise ChainError("stake amount must be positive", name="AmountTooLow")
        signer = self.keyring.coldkey_signer(purpose="add_stake")
        self.submit(signer, "add_stake", {"hotkey": hotkey, "netuid": self.netuid, "amount_staked": amount})

    def set_weights(self, *, hotkey: str, weights: dict[str, float]) -> None:
        """set_weights on a subnet without commit-reveal; with it, `chain.services.weight_commits.
        weights_set` commits (it keeps the salt in Postgres until the reveal)."""
        plan = self.weights_plan(hotkey=hotkey, weights=weights)
        if plan.commit_reveal:
            raise ChainError(
                f"subnet {self.netuid} requires commit-reveal: set weights through the weights service",
                name="CommitRevealRequired",
            )
        self.weights_send(plan)

    # --- weights, step by step (commit-reveal is orchestrated by chain.services.weight_commits)
    def weights_plan(self, *, hotkey: str, weights: dict[str, float]) -> WeightsPlan:
        """uids and u16 values for `weights` (hotkeys no longer registered are left out)."""
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
        return WeightsPlan(
            hotkey=hotkey,
            uid=uids[hotkey],
            account=bytes(signer.public_key),
            uids=dests,
            values=values,
            version_key=policy.version_key,
            commit_reveal=policy.commit_reveal,
            rate_limit=policy.rate_limit,
        )

    def weights_send(self, plan: WeightsPlan) -> None:
        params = {"netuid": self.netuid, "dests": plan.uids, "weights": plan.values, "version_key": plan.version_key}
        self._rate_limited_weights(plan, "set_weights", params)

    def weights_commit(self, plan: WeightsPlan, *, commit_hash: str) -> None:
        self._rate_limited_weights(plan, "commit_weights", {"netuid": self.netuid, "commit_hash": commit_hash})

    def weights_commits(self, *, hotkey: str) -> list[CommitWindow]:
        commits = self.connection.read(lambda si: read_commits(si, self.netuid, hotkey))
        return [CommitWindow(*commit) for commit in commits]

    def weights_reveal(
        self, *, hotkey: str, uids: list[int], values: list[int], salt: list[int], version_key: int
    ) -> None:
        signer = self.keyring.signer(hotkey, purpose="reveal_weights")
        params = {"netuid": self.netuid, "uids": uids, "values": values, "salt": salt, "version_key": version_key}
        self.submit(signer, "reveal_weights", params)

    def _rate_limited_weights(self, plan: WeightsPlan, function: str, params: Mapping[str, Any]) -> None:
        signer = self.keyring.signer(plan.hotkey, purpose=function)
        try:
            self.submit(signer, function, params)
        except RateLimited as exc:
            if exc.retry_at_block is None:
                last = self.connection.read(lambda si: read_last_update(si, self.netuid, plan.uid))
                exc.retry_at_block = last + plan.rate_limit
            raise

    # --- plumbing
    def submit(self, signer: Keypair, function: str, params: Mapping[str, Any]) -> Receipt:
        return self.connection.write(
            lambda si: submit(si, signer=signer, pallet=PALLET, function=function, params=params)
        )
