"""Commit-reveal of validator scores, the rules: the epoch schedule (commit window, then reveal
window, then checks), the commit digest sha256(salt ‖ canonical(scores)), and how closely two
validators' revealed scores agree. The rounds themselves run in dht/commit_reveal.py."""

import hashlib
from dataclasses import dataclass

from dht.engine.codec import canonical_or_error


def scores_digest(*, salt: str, scores: dict[str, float]) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + canonical_or_error(scores)).hexdigest()


def agreement(a: dict[str, float], b: dict[str, float]) -> tuple[float, int]:
    """1 - total variation distance of the two score vectors normalised to weights."""
    miners = set(a) | set(b)
    total_a, total_b = sum(a.values()), sum(b.values())
    if not miners or total_a <= 0 or total_b <= 0:
        return (1.0 if total_a == total_b == 0 else 0.0), len(miners)
    distance = sum(abs(a.get(m, 0.0) / total_a - b.get(m, 0.0) / total_b) for m in miners) / 2
    return max(0.0, 1.0 - distance), len(miners)


@dataclass(frozen=True)
class Phase:
    epoch: int
    fraction: float  # 0 ≤ fraction < 1 through the epoch


@dataclass(frozen=True)
class EpochSchedule:
    epoch_blocks: int
    commit_fraction: float
    reveal_fraction: float

    def phase(self, block: int) -> Phase:
        return Phase(epoch=block // self.epoch_blocks, fraction=(block % self.epoch_blocks) / self.epoch_blocks)

    def in_commit(self, phase: Phase) -> bool:
        return phase.fraction < self.commit_fraction

    def in_reveal(self, phase: Phase) -> bool:
        return self.commit_fraction <= phase.fraction < self.reveal_fraction
