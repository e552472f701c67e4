"""The chain, as Meshwork sees it: one small interface, several backends chosen by settings.

Backends are plain clients: they talk to the chain and return these dataclasses. Storing what they
return (the metagraph, weight commits) is `chain.services`' job; reading it back is `chain.selectors`'.
Nothing on a hot path calls a backend: Celery tasks sync what it says into each node's Postgres."""

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass

from protocol.keys import is_ss58


class Role(enum.StrEnum):
    VALIDATOR = "validator"
    MINER = "miner"


class NodeClass(enum.StrEnum):
    """Hypertensor's subnet node classes (`Neuron.classification`; empty on other chains)."""

    REGISTERED = "Registered"  # queued, not yet in the subnet
    IDLE = "Idle"
    INCLUDED = "Included"
    VALIDATOR = "Validator"


class ChainError(Exception):
    """A chain call failed; `name` is the runtime's error name where it has one."""

    def __init__(self, message: str, *, name: str = "") -> None:
        super().__init__(message)
        self.name = name


class NotRegistered(ChainError):
    pass


class ChainUnavailable(ChainError):
    """The node could not be reached or did not answer in time; retry later with backoff."""


class MalformedResponse(ChainError):
    """The node answered with something that does not decode as the runtime's types."""

    def __init__(self, message: str, *, name: str = "MalformedResponse") -> None:
        super().__init__(message, name=name)


class RateLimited(ChainError):
    """The runtime refused the call as too frequent; it is allowed again at `retry_at_block`."""

    def __init__(self, message: str, *, name: str, retry_at_block: int | None = None) -> None:
        super().__init__(message, name=name)
        self.retry_at_block = retry_at_block


@dataclass(frozen=True)
class Neuron:
    uid: int
    hotkey: str
    coldkey: str
    stake: int
    role: Role
    address: str | None  # "host:port" the node serves on, if it announced one
    validator_permit: bool = False  # subtensor: the runtime lets it set weights on others
    peer_id: str = ""  # hypertensor: the libp2p peer id the node registered
    last_update: int = 0  # block of its last weights (subtensor) or epoch of its class (hypertensor)
    classification: str = ""  # hypertensor: a NodeClass value


@dataclass(frozen=True)
class Metagraph:
    """One consistent read of the subnet, as stored in Postgres by the metagraph sync."""

    netuid: int
    block: int
    tempo: int
    neurons: list[Neuron]
    commit_reveal: bool = False
    weights_rate_limit: int = 0
    weights_version: int = 0

    def neuron(self, hotkey: str) -> Neuron | None:
        return next((n for n in self.neurons if n.hotkey == hotkey), None)


@dataclass(frozen=True)
class WeightsPlan:
    """Weights mapped to uids and scaled for one validator, with the subnet's rules at `block`."""

    hotkey: str
    uid: int  # the validator's own uid
    account: bytes  # the signer's public key: part of a commit hash
    uids: list[int]
    values: list[int]
    version_key: int
    commit_reveal: bool
    rate_limit: int  # blocks between two weight settings


@dataclass(frozen=True)
class CommitWindow:
    """A weight commit as the chain holds it: its hash and (commit, first, last) reveal blocks."""

    commit_hash: str
    commit_block: int
    reveal_from_block: int
    reveal_until_block: int


class ChainClient(ABC):
    name: str = "local"  # the backend's name in settings.CHAIN
    netuid: int
    # Backends that talk to a remote chain set this: what they say is kept in Postgres by
    # `chain.services.metagraph.metagraph_sync` and read back through `chain.selectors`.
    synced: bool = False
    coldkey_formats: str = "an SS58 address"  # what `valid_coldkey` accepts, for error messages

    @abstractmethod
    def current_block(self) -> int: ...

    @abstractmethod
    def block_seconds(self) -> float:
        """Seconds per block: callers derive epochs and intervals from it, never from which chain it is."""

    @abstractmethod
    def fetch_metagraph(self) -> Metagraph:
        """A fresh read of the whole subnet from the chain itself (not for hot paths)."""

    @abstractmethod
    def register(self, *, hotkey: str, coldkey: str, role: Role) -> Neuron: ...

    @abstractmethod
    def serve(self, *, hotkey: str, address: str) -> None: ...

    @abstractmethod
    def add_stake(self, *, hotkey: str, amount: int) -> None: ...

    @abstractmethod
    def set_weights(self, *, hotkey: str, weights: dict[str, float]) -> None:
        """`weights` maps miner hotkeys to non-negative weights; the backend normalises them."""

    def valid_coldkey(self, coldkey: str) -> bool:
        return is_ss58(coldkey)

    def close(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Release connections held by the backend (nothing for Postgres-only backends)."""


class CommitRevealChain(ChainClient):
    """A chain whose subnets may require weights to be committed first and revealed later.

    The client only sends and reads; `chain.services.weight_commits` keeps the salt and the weights
    in Postgres between the two, so a restart loses nothing."""

    @abstractmethod
    def weights_plan(self, *, hotkey: str, weights: dict[str, float]) -> WeightsPlan: ...

    @abstractmethod
    def weights_send(self, plan: WeightsPlan) -> None:
        """Set the planned weights directly (the subnet does not use commit-reveal)."""

    @abstractmethod
    def weights_commit(self, plan: WeightsPlan, *, commit_hash: str) -> None: ...

    @abstractmethod
    def weights_commits(self, *, hotkey: str) -> list[CommitWindow]:
        """The commits of `hotkey` the chain holds, not yet revealed."""

    @abstractmethod
    def weights_reveal(
        self, *, hotkey: str, uids: list[int], values: list[int], salt: list[int], version_key: int
    ) -> None: ...
