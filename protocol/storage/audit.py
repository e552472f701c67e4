"""The audit challenge (docs/storage.md): the validator sends a fresh nonce and a count; the
chunks are derived from the nonce (so they are fresh and unpredictable); the miner answers with
each chunk and its Merkle path; the validator checks them against the root it kept, with no copy of
the share. TO BE IMPLEMENTED."""

import enum
from collections.abc import Callable

from pydantic import Field

from protocol.types import StrictModel

MAX_AUDIT_CHUNKS = 64
MAX_PATH = 40


class AuditFailure(enum.StrEnum):
    UNREACHABLE = "unreachable"  # no connection, or it broke
    TIMEOUT = "timeout"  # no answer within STORAGE_AUDIT_DEADLINE_S
    MISSING = "missing"  # the miner says it has no such share (404)
    HTTP_STATUS = "http_status"  # any other non-200
    MALFORMED = "malformed"  # not an AuditAnswer, or over its bounds
    WRONG_CHUNKS = "wrong_chunks"  # not the chunks the nonce names
    BAD_PROOF = "bad_proof"  # a chunk does not hash to the root along its path: dropped or corrupted


class AuditChallenge(StrictModel):
    nonce: str = Field(pattern=r"^[0-9a-f]{64}$")
    count: int = Field(ge=1, le=MAX_AUDIT_CHUNKS)


class ChunkProof(StrictModel):
    index: int = Field(ge=0, lt=1 << 32)
    data: str = Field(max_length=4 * 1024 * 1024)  # base64 of the chunk
    path: list[str] = Field(max_length=MAX_PATH)  # hex siblings, leaf to root


class AuditAnswer(StrictModel):
    nonce: str = Field(pattern=r"^[0-9a-f]{64}$")
    chunks: list[ChunkProof] = Field(max_length=MAX_AUDIT_CHUNKS)


def challenge_indices(nonce: str, *, n_chunks: int, count: int) -> list[int]:
    """min(count, n_chunks) distinct chunk indices drawn from the nonce, in draw order."""
    raise NotImplementedError


def audit_answer_build(
    challenge: AuditChallenge, *, leaves: list[bytes], read_chunk: Callable[[int], bytes]
) -> AuditAnswer:
    """Miner side: the chunks the nonce names, each with its path."""
    raise NotImplementedError


def audit_answer_check(
    answer: AuditAnswer, *, challenge: AuditChallenge, root: bytes, size: int, chunk_bytes: int
) -> tuple[AuditFailure, str] | None:
    """Validator side: None when every named chunk is there and proven, else (reason, detail).
    Bounded work: at most MAX_AUDIT_CHUNKS chunks and paths, whatever the miner sent."""
    raise NotImplementedError
