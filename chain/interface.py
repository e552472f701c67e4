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


@dataclass(frozen=True)
class Neuron:
    uid: int
    hotkey: str
    coldkey: str
    stake: int
    role: Role
    address: str | None  # "host:port" the node serves on, if it announced one


class ChainClient(ABC):
    netuid: int

    @abstractmethod
    def current_block(self) -> int: ...

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
