"""The chain, as Meshwork sees it: one small interface, several backends chosen by settings.

Nothing on a hot path calls it: Celery tasks sync what it says into each node's Postgres."""

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass


class Role(enum.StrEnum):
    VALIDATOR = "validator"
    MINER = "miner"


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
    classification: str = ""  # hypertensor: Registered (queued), Idle, Included, Validator


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


class ChainClient(ABC):
    name: str = "local"  # the backend's name in settings.CHAIN
    netuid: int
    # Backends that talk to a remote chain set this: their `neurons()` reads the snapshot that
    # `chain.services.metagraph_sync` keeps in Postgres, and `fetch_metagraph()` reads the chain.
    synced: bool = False

    @abstractmethod
    def current_block(self) -> int: ...

    @abstractmethod
    def block_seconds(self) -> float:
        """Seconds per block: callers derive epochs and intervals from it, never from which chain it is."""

    @abstractmethod
    def neurons(self) -> list[Neuron]:
        """Every registered node of the subnet (the metagraph)."""

    def neuron(self, hotkey: str) -> Neuron | None:
        return next((n for n in self.neurons() if n.hotkey == hotkey), None)

    @abstractmethod
    def register(self, *, hotkey: str, coldkey: str, role: Role) -> Neuron: ...

    @abstractmethod
    def serve(self, *, hotkey: str, address: str) -> None: ...

    @abstractmethod
    def add_stake(self, *, hotkey: str, amount: int) -> None: ...

    @abstractmethod
    def set_weights(self, *, hotkey: str, weights: dict[str, float]) -> None:
        """`weights` maps miner hotkeys to non-negative weights; the backend normalises them."""

    def fetch_metagraph(self) -> Metagraph:
        """A fresh read of the whole subnet from the chain itself (not for hot paths)."""
        return Metagraph(netuid=self.netuid, block=self.current_block(), tempo=0, neurons=self.neurons())

    def reveal_pending_weights(self) -> int:
        """Reveal the weight commits whose reveal window is open; returns how many were revealed."""
        return 0

    def close(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Release connections held by the backend (nothing for Postgres-only backends)."""
