"""Challenges for one phase of a run: fresh secrets bound to the miner, the executor and the cycle;
deadlines from the class's calibrated reference."""

import hashlib
import hmac
import uuid
from dataclasses import dataclass

from django.conf import settings

from protocol.benchmarks.pow import pow_challenge
from protocol.messages.benchmarks import BenchmarkKind, Challenge, ExecutorRef, MatmulParams, PowParams
from protocol.tunables import tunable


@dataclass(frozen=True)
class ClassInfo:
    """What a run needs of an executor class (from the subnet's catalogue)."""

    name: str
    cpus: float
    memory_mb: int
    gpu_count: int
    spin_up_s: float
    matmul_n: int
    pow_difficulty: int
    pow_count: int
    reference_seconds: dict[str, float]
    gpu_model: str = ""  # matched (case-insensitively, as a substring) against nvidia-smi's name
    gpu_memory_mb: int = 0


@dataclass(frozen=True)
class Planned:
    challenge: Challenge
    reference_s: float  # what the class's hardware takes for this very challenge
    deadline_s: float


def pow_reference(info: ClassInfo, difficulty: int) -> float | None:
    """Expected work doubles per bit of difficulty above the class's own (the calibrated one)."""
    base = info.reference_seconds.get(BenchmarkKind.POW)
    return None if base is None else float(base) * 2.0 ** (difficulty - info.pow_difficulty)


def deadline_for(info: ClassInfo, reference_s: float, *, newcomer: bool) -> float:
    factor = float(tunable("VALIDATOR_DEADLINE_FACTOR"))
    if newcomer:
        factor *= settings.VALIDATOR_NEWCOMER_DEADLINE_FACTOR
    return info.spin_up_s + reference_s * factor


def matmul_seed(*, secret: bytes, miner_hotkey: str, executor: str, cycle: int) -> bytes:
    """128 bits nobody can predict before the challenge, different for every executor."""
    message = f"matmul|{miner_hotkey}|{executor}|{cycle}".encode()
    return hmac.new(secret, message, hashlib.sha256).digest()[:16]


def plan_challenge(
    *,
    benchmark: BenchmarkKind,
    executor: ExecutorRef,
    info: ClassInfo,
    secret: bytes,
    miner_hotkey: str,
    cycle: int,
    difficulty: int,
    newcomer: bool,
) -> Planned | None:
    """None when the class has no reference figure for the benchmark (it cannot be timed)."""
    key = executor.key()
    pow_params, matmul_params = None, None
    if benchmark == BenchmarkKind.POW:
        reference = pow_reference(info, difficulty)
        puzzle = pow_challenge(secret=secret, miner_hotkey=miner_hotkey, executor=key, cycle=cycle)
        pow_params = PowParams(challenge=puzzle.hex(), difficulty=difficulty, count=info.pow_count)
    else:
        raw = info.reference_seconds.get(BenchmarkKind.MATMUL)
        reference = None if raw is None else float(raw)
        seed = matmul_seed(secret=secret, miner_hotkey=miner_hotkey, executor=key, cycle=cycle)
        matmul_params = MatmulParams(seed=seed.hex(), n=info.matmul_n)
    if reference is None:
        return None
    deadline = deadline_for(info, reference, newcomer=newcomer)
    challenge = Challenge(
        challenge_id=uuid.uuid4(),
        executor=executor,
        benchmark=benchmark,
        # The job's own limit: past the deadline and the grace, its answer could only be missing.
        timeout_s=min(3600, int(deadline + settings.VALIDATOR_LATE_GRACE_S) + 1),
        pow=pow_params,
        matmul=matmul_params,
    )
    return Planned(challenge=challenge, reference_s=reference, deadline_s=deadline)
