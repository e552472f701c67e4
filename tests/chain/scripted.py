"""A stand-in for a remote chain whose answers a test scripts, and what it was asked to write."""

from typing import Any

from chain.interface import ChainClient, Metagraph, Neuron, Role


class ScriptedChain(ChainClient):
    name = "scripted"
    synced = True
    netuid = 1

    def __init__(self, *answers: Metagraph | Exception) -> None:
        self.answers = list(answers)
        self.reads = 0
        self.writes: list[tuple[str, dict[str, Any]]] = []

    def fetch_metagraph(self) -> Metagraph:
        self.reads += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def current_block(self) -> int:
        return 1000

    def block_seconds(self) -> float:
        return 12.0

    def register(self, *, hotkey: str, coldkey: str, role: Role) -> Neuron:
        self.writes.append(("register", {"hotkey": hotkey, "coldkey": coldkey, "role": role}))
        return Neuron(uid=0, hotkey=hotkey, coldkey=coldkey, stake=0, role=role, address=None)

    def serve(self, *, hotkey: str, address: str) -> None:
        self.writes.append(("serve", {"hotkey": hotkey, "address": address}))

    def add_stake(self, *, hotkey: str, amount: int) -> None:
        self.writes.append(("add_stake", {"hotkey": hotkey, "amount": amount}))

    def set_weights(self, *, hotkey: str, weights: dict[str, float]) -> None:
        self.writes.append(("set_weights", {"hotkey": hotkey, "weights": weights}))
