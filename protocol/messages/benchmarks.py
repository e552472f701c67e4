"""Validator ↔ miner: synthetic benchmarks (protocol/benchmarks has the maths).

A cycle is one `bench.start` per miner naming every executor of its manifest, sent to every miner
at the same moment. Each challenge runs as a real job in that executor. Proof-of-work is answered
in one message; matmul is answered by a commitment (a Merkle root over the rows of C), then, only
after the validator has chosen rows, by an opening of those rows."""

import enum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from protocol.messages.common import Message
from protocol.messages.manifest import ClassName
from protocol.types import NulFreeText, StrictModel

Hex32 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]  # 32 bytes
Hex16 = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]  # 16 bytes (128-bit seeds)
MAX_CHALLENGES = 1024
MAX_POW_NONCES = 64
MAX_OPENED_ROWS = 256
MAX_MATMUL_N = 32768


class BenchmarkKind(enum.StrEnum):
    POW = "pow"
    MATMUL = "matmul"


class CheckReason(enum.StrEnum):
    """Why a check ended as it did; `passed` is the only passing reason."""

    PASSED = "passed"
    LATE = "late"  # answered after the deadline
    WRONG_ANSWER = "wrong_answer"  # a nonce that does not meet the target, entries of C that are off
    BAD_PROOF = "bad_proof"  # an opening that does not match the committed root
    NO_ANSWER = "no_answer"  # nothing arrived (link lost, silent)
    MALFORMED = "malformed"  # an answer of the wrong shape or size
    OVER_CLAIMED = "over_claimed"  # the manifest claims more than the host's specs hold
    DUPLICATE_HOST = "duplicate_host"  # the same engine id or spec fingerprint behind two hotkeys
    DECLINED_BUSY = "declined_busy"  # "busy" while this validator saw the executor free
    BUSY = "busy"  # running one of this validator's own jobs: not verified now, not held against it
    EXECUTOR_FAILED = "executor_failed"  # the benchmark job itself failed on the miner
    UNKNOWN_CLASS = "unknown_class"  # the manifest names a class outside the subnet's catalogue
    UNCALIBRATED = "uncalibrated"  # the class has no reference figure for this benchmark yet


class ExecutorRef(StrictModel):
    """One executor of a miner: host name, class and index within that class on that host."""

    host: NulFreeText = Field(min_length=1, max_length=64)
    executor_class: ClassName
    index: int = Field(ge=0, lt=256)

    def key(self) -> str:
        return f"{self.host}/{self.executor_class}/{self.index}"


class PowParams(StrictModel):
    challenge: Hex32  # derived from a fresh validator secret, the miner, the executor and the cycle
    difficulty: int = Field(ge=1, le=40)  # leading zero bits per solution
    count: int = Field(ge=1, le=MAX_POW_NONCES)  # solutions wanted (averages out the luck)


class MatmulParams(StrictModel):
    seed: Hex16
    n: int = Field(ge=16, le=MAX_MATMUL_N)


class Challenge(StrictModel):
    challenge_id: UUID
    executor: ExecutorRef
    benchmark: BenchmarkKind
    timeout_s: int = Field(ge=1, le=3600)  # the job's own limit; the validator's deadline is its own
    pow: PowParams | None = None
    matmul: MatmulParams | None = None


class BenchmarkStart(Message):
    type: Literal["bench.start"] = "bench.start"
    cycle: int = Field(ge=0)
    challenges: list[Challenge] = Field(max_length=MAX_CHALLENGES)


class OpenRequest(Message):
    """Sent only after the commitment arrived: the rows (and columns) the validator will check."""

    type: Literal["bench.open"] = "bench.open"
    challenge_id: UUID
    rows: list[Annotated[int, Field(ge=0, lt=MAX_MATMUL_N)]] = Field(min_length=1, max_length=MAX_OPENED_ROWS)


class PowAnswer(Message):
    type: Literal["bench.pow_answer"] = "bench.pow_answer"
    challenge_id: UUID
    nonces: list[Annotated[int, Field(ge=0, lt=1 << 64)]] = Field(max_length=MAX_POW_NONCES)


class MatmulCommit(Message):
    type: Literal["bench.matmul_commit"] = "bench.matmul_commit"
    challenge_id: UUID
    root: Hex32


class RowOpening(StrictModel):
    index: int = Field(ge=0, lt=MAX_MATMUL_N)
    row_b64: str = Field(max_length=(MAX_MATMUL_N * 4 * 4) // 3 + 4)  # float32 little-endian
    path: list[Hex32] = Field(max_length=16)  # siblings, leaf to root


class MatmulOpening(Message):
    type: Literal["bench.matmul_opening"] = "bench.matmul_opening"
    challenge_id: UUID
    rows: list[RowOpening] = Field(max_length=MAX_OPENED_ROWS)


class BenchmarkFailed(Message):
    """The miner could not run a challenge: `busy` (executor taken) or the job failed."""

    type: Literal["bench.failed"] = "bench.failed"
    challenge_id: UUID
    reason: str = Field(max_length=64)
    detail: str = Field(default="", max_length=1000)


BenchmarkAnswer = PowAnswer | MatmulCommit | MatmulOpening | BenchmarkFailed


class BenchmarkFailReason(enum.StrEnum):
    """The `reason` of a `BenchmarkFailed` a miner sends."""

    BUSY = "busy"  # the executor is running another job
    UNKNOWN_EXECUTOR = "unknown_executor"  # no such executor (host, class, index) on this miner
    DUPLICATE = "duplicate"  # the challenge id was already used here
    REFUSED = "refused"  # this validator may not use the miner (access rules, stake)
    MALFORMED = "malformed"  # parameters missing for the benchmark, rows outside the matrix
    TOO_LARGE = "too_large"  # more than the miner bounds allow (matrix too big to ship or keep)
    EXECUTOR_FAILED = "executor_failed"  # the benchmark job failed
    UNKNOWN_CHALLENGE = "unknown_challenge"  # an opening for no (or an expired, or opened) commitment
