"""Proof of work: honest answers pass; nonces that do not meet the target, answers for another
executor, miner, cycle or secret, and answers of the wrong size fail with the right reason."""

import hashlib
import random

import pytest

from protocol.benchmarks.pow import pow_challenge, pow_check, pow_solve
from protocol.messages.benchmarks import CheckReason

DIFFICULTY, COUNT = 10, 8


def challenge(**changes: object) -> bytes:
    parts = {"secret": b"validator-secret", "miner_hotkey": "5Hot", "executor": "h1/cpu/0", "cycle": 7}
    return pow_challenge(**(parts | changes))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def answer() -> list[int]:
    return pow_solve(challenge=challenge(), difficulty=DIFFICULTY, count=COUNT)


def test_an_honest_answer_passes(answer: list[int]) -> None:
    assert len(answer) == COUNT
    assert pow_check(challenge=challenge(), difficulty=DIFFICULTY, count=COUNT, nonces=answer) == (
        CheckReason.PASSED,
        f"{COUNT} solutions of {DIFFICULTY} bits",
    )


def test_each_solution_has_the_leading_zero_bits(answer: list[int]) -> None:
    for i, nonce in enumerate(answer):
        digest = hashlib.sha256(challenge() + bytes([i]) + nonce.to_bytes(8, "big")).digest()
        assert int.from_bytes(digest, "big") >> (256 - DIFFICULTY) == 0


def test_random_nonces_fail() -> None:
    nonces = [random.randrange(1 << 64) for _ in range(COUNT)]
    reason, _ = pow_check(challenge=challenge(), difficulty=24, count=COUNT, nonces=nonces)
    assert reason is CheckReason.WRONG_ANSWER


def test_one_solution_reused_for_every_index_fails(answer: list[int]) -> None:
    # Each index is its own puzzle: one lucky nonce does not answer all of them.
    reason, detail = pow_check(challenge=challenge(), difficulty=DIFFICULTY, count=COUNT, nonces=[answer[0]] * COUNT)
    assert reason is CheckReason.WRONG_ANSWER
    assert detail.startswith("nonce ")


@pytest.mark.parametrize(
    "other", [{"executor": "h1/cpu/1"}, {"cycle": 8}, {"miner_hotkey": "5Other"}, {"secret": b"another secret"}]
)
def test_an_answer_for_another_challenge_fails(answer: list[int], other: dict[str, object]) -> None:
    reason, _ = pow_check(challenge=challenge(**other), difficulty=DIFFICULTY, count=COUNT, nonces=answer)
    assert reason is CheckReason.WRONG_ANSWER


def test_challenges_are_bound_to_each_part_unambiguously() -> None:
    assert len(challenge()) == 32
    assert challenge() == challenge()
    assert challenge(miner_hotkey="a|b", executor="c") != challenge(miner_hotkey="a", executor="b|c")
    assert challenge(executor="x1", cycle=1) != challenge(executor="x", cycle=11)


@pytest.mark.parametrize("nonces", [[], [0] * (COUNT - 1), [0] * (COUNT + 1)])
def test_the_wrong_count_is_malformed(nonces: list[int]) -> None:
    reason, detail = pow_check(challenge=challenge(), difficulty=DIFFICULTY, count=COUNT, nonces=nonces)
    assert (reason, detail) == (CheckReason.MALFORMED, f"{len(nonces)} nonces, expected {COUNT}")


@pytest.mark.parametrize("bad", [-1, 1 << 64])
def test_a_nonce_outside_64_bits_is_malformed(answer: list[int], bad: int) -> None:
    reason, _ = pow_check(challenge=challenge(), difficulty=DIFFICULTY, count=COUNT, nonces=[bad, *answer[1:]])
    assert reason is CheckReason.MALFORMED


def test_bad_parameters_raise() -> None:
    with pytest.raises(ValueError, match="challenge"):
        pow_solve(challenge=b"short", difficulty=4, count=1)
    with pytest.raises(ValueError, match="count"):
        pow_solve(challenge=challenge(), difficulty=4, count=257)
    with pytest.raises(ValueError, match="difficulty"):
        pow_check(challenge=challenge(), difficulty=0, count=1, nonces=[0])
