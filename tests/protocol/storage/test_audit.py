import base64
import os
import secrets

import pytest
from pydantic import ValidationError

from protocol.storage.audit import (
    MAX_AUDIT_CHUNKS,
    AuditAnswer,
    AuditChallenge,
    AuditFailure,
    ChunkProof,
    audit_answer_build,
    audit_answer_check,
    challenge_indices,
)
from protocol.storage.proofs import share_leaves, share_root

CHUNK = 1024
DATA = os.urandom(40 * CHUNK + 100)  # 41 chunks, the last one short
LEAVES = share_leaves(DATA, chunk_bytes=CHUNK)
ROOT = share_root(LEAVES)


def read(data: bytes):
    return lambda i: data[i * CHUNK : (i + 1) * CHUNK]


def challenge(count: int = 8) -> AuditChallenge:
    return AuditChallenge(nonce=secrets.token_hex(32), count=count)


def check(answer: AuditAnswer, c: AuditChallenge, *, data: bytes = DATA) -> tuple[AuditFailure, str] | None:
    return audit_answer_check(answer, challenge=c, root=ROOT, size=len(data), chunk_bytes=CHUNK)


def test_indices_are_distinct_in_range_and_the_same_on_both_sides() -> None:
    nonce = secrets.token_hex(32)
    picked = challenge_indices(nonce, n_chunks=41, count=8)
    assert len(set(picked)) == 8
    assert all(0 <= i < 41 for i in picked)
    assert challenge_indices(nonce, n_chunks=41, count=8) == picked
    assert sorted(challenge_indices(nonce, n_chunks=3, count=8)) == [0, 1, 2]  # fewer chunks than asked: each once


def test_fresh_nonces_spread_over_every_chunk() -> None:
    seen = {i for _ in range(200) for i in challenge_indices(secrets.token_hex(32), n_chunks=41, count=4)}
    assert seen == set(range(41))


def test_an_honest_answer_passes() -> None:
    c = challenge()
    assert check(audit_answer_build(c, leaves=LEAVES, read_chunk=read(DATA)), c) is None


def test_an_empty_share_has_one_empty_chunk_that_passes() -> None:
    leaves = share_leaves(b"", chunk_bytes=CHUNK)
    c = challenge()
    answer = audit_answer_build(c, leaves=leaves, read_chunk=lambda i: b"")
    assert audit_answer_check(answer, challenge=c, root=share_root(leaves), size=0, chunk_bytes=CHUNK) is None


def test_a_flipped_byte_fails_with_bad_proof() -> None:
    c = challenge(count=MAX_AUDIT_CHUNKS)  # 41 chunks: every one is named
    corrupted = bytearray(DATA)
    corrupted[5 * CHUNK + 3] ^= 1
    answer = audit_answer_build(c, leaves=LEAVES, read_chunk=read(bytes(corrupted)))
    assert check(answer, c)[0] == AuditFailure.BAD_PROOF  # type: ignore[index]


def test_regenerated_bytes_fail_with_bad_proof() -> None:
    c = challenge()
    answer = audit_answer_build(c, leaves=LEAVES, read_chunk=lambda i: bytes(len(read(DATA)(i))))
    assert check(answer, c)[0] == AuditFailure.BAD_PROOF  # type: ignore[index]


def test_another_miners_copy_fails_even_with_its_own_paths() -> None:
    other = os.urandom(len(DATA))  # the same share sealed for someone else
    c = challenge()
    answer = audit_answer_build(c, leaves=share_leaves(other, chunk_bytes=CHUNK), read_chunk=read(other))
    assert check(answer, c)[0] == AuditFailure.BAD_PROOF  # type: ignore[index]


def test_a_dropped_or_truncated_chunk_fails() -> None:
    c = challenge()
    answer = audit_answer_build(c, leaves=LEAVES, read_chunk=read(DATA))
    dropped = AuditAnswer(nonce=answer.nonce, chunks=answer.chunks[1:])
    assert check(dropped, c)[0] == AuditFailure.WRONG_CHUNKS  # type: ignore[index]
    short = answer.chunks[0].model_copy(update={"data": base64.b64encode(b"x").decode()})
    assert check(AuditAnswer(nonce=answer.nonce, chunks=[short, *answer.chunks[1:]]), c)[0] == AuditFailure.BAD_PROOF  # type: ignore[index]


def test_chunks_of_its_own_choosing_or_another_nonce_fail() -> None:
    c = challenge()
    answer = audit_answer_build(c, leaves=LEAVES, read_chunk=read(DATA))
    assert check(answer, challenge())[0] == AuditFailure.WRONG_CHUNKS  # type: ignore[index]
    easy = audit_answer_build(AuditChallenge(nonce=c.nonce, count=1), leaves=LEAVES, read_chunk=read(DATA))
    assert check(easy, c)[0] == AuditFailure.WRONG_CHUNKS  # type: ignore[index]


def test_garbage_and_oversize_are_malformed() -> None:
    c = challenge(count=1)
    answer = audit_answer_build(c, leaves=LEAVES, read_chunk=read(DATA))
    index = answer.chunks[0].index
    huge = ChunkProof(index=index, data="A" * 100_000, path=[])
    assert check(AuditAnswer(nonce=c.nonce, chunks=[huge]), c)[0] == AuditFailure.MALFORMED  # type: ignore[index]
    bad = ChunkProof(index=index, data="!!!!", path=["zz"])
    assert check(AuditAnswer(nonce=c.nonce, chunks=[bad]), c)[0] == AuditFailure.MALFORMED  # type: ignore[index]
    with pytest.raises(ValidationError):
        AuditAnswer(nonce=c.nonce, chunks=[huge] * (MAX_AUDIT_CHUNKS + 1))
    with pytest.raises(ValidationError):
        AuditChallenge(nonce="00", count=1)
