"""The audit challenge (docs/storage.md): the validator sends a fresh nonce and a count; the
chunks are derived from the nonce (so they are fresh and unpredictable); the miner answers with
each chunk and its Merkle path; the validator checks them against the root it kept, with no copy of
the share."""

import base64
import binascii
import enum
import hashlib
from collections.abc import Callable

from pydantic import Field

from protocol.benchmarks.merkle import merkle_levels, merkle_path, merkle_verify
from protocol.storage.proofs import chunk_count, chunk_leaf, chunk_length
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
    """min(count, n_chunks) distinct chunk indices drawn from the nonce, in draw order (SHA-256 in
    counter mode, rejection sampling: uniform, and both sides draw the same)."""
    wanted = min(count, n_chunks)
    seed = bytes.fromhex(nonce)
    picked: list[int] = []
    seen: set[int] = set()
    limit = (1 << 64) - (1 << 64) % n_chunks
    counter = 0
    while len(picked) < wanted:
        block = hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
        counter += 1
        for offset in range(0, 32, 8):
            value = int.from_bytes(block[offset : offset + 8], "big")
            if value >= limit:
                continue
            index = value % n_chunks
            if index not in seen and len(picked) < wanted:
                seen.add(index)
                picked.append(index)
    return picked


def audit_answer_build(
    challenge: AuditChallenge, *, leaves: list[bytes], read_chunk: Callable[[int], bytes]
) -> AuditAnswer:
    """Miner side: the chunks the nonce names, each with its path."""
    levels = merkle_levels(leaves)
    chunks = [
        ChunkProof(
            index=i,
            data=base64.b64encode(read_chunk(i)).decode(),
            path=[p.hex() for p in merkle_path(levels, i)],
        )
        for i in challenge_indices(challenge.nonce, n_chunks=len(leaves), count=challenge.count)
    ]
    return AuditAnswer(nonce=challenge.nonce, chunks=chunks)


def audit_answer_check(
    answer: AuditAnswer, *, challenge: AuditChallenge, root: bytes, size: int, chunk_bytes: int
) -> tuple[AuditFailure, str] | None:
    """Validator side: None when every named chunk is there and proven, else (reason, detail).
    Bounded work: at most MAX_AUDIT_CHUNKS chunks and paths of MAX_PATH, whatever the miner sent."""
    n_chunks = chunk_count(size, chunk_bytes=chunk_bytes)
    wanted = challenge_indices(challenge.nonce, n_chunks=n_chunks, count=challenge.count)
    if answer.nonce != challenge.nonce:
        return AuditFailure.WRONG_CHUNKS, "the answer is for another nonce"
    if [c.index for c in answer.chunks] != wanted:
        return AuditFailure.WRONG_CHUNKS, f"expected chunks {wanted[:8]}…, got {[c.index for c in answer.chunks][:8]}…"
    for proof in answer.chunks:
        expected = chunk_length(proof.index, size=size, chunk_bytes=chunk_bytes)
        if len(proof.data) > 4 * (expected // 3 + 1) + 4:
            return AuditFailure.MALFORMED, f"chunk {proof.index} is longer than a chunk"
        try:
            data = base64.b64decode(proof.data, validate=True)
            path = [bytes.fromhex(p) for p in proof.path]
        except (binascii.Error, ValueError):
            return AuditFailure.MALFORMED, f"chunk {proof.index} is not base64 or its path not hex"
        if len(data) != expected:
            return AuditFailure.BAD_PROOF, f"chunk {proof.index} has {len(data)} bytes, not {expected}"
        leaf = chunk_leaf(proof.index, data)
        if not merkle_verify(root=root, index=proof.index, leaf=leaf, path=path, n_leaves=n_chunks):
            return AuditFailure.BAD_PROOF, f"chunk {proof.index} does not prove against the share's root"
    return None
