"""The adversarial suite: cheating miners and an honest one in the same cycle, against a real
validator over real websockets. Every strategy is caught and recorded with its reason; the honest
miner is fully verified. (The CPU-limited engine and inflated organic seconds have their own
modules: test_slow_engine.py and tests/validator/test_observed_seconds.py.)"""

import asyncio
import base64
import json
import random
from typing import Any

import numpy as np
import pytest
from asgiref.sync import sync_to_async
from numpy.typing import NDArray

from protocol.benchmarks.generator import matrix_rows
from protocol.benchmarks.merkle import merkle_path
from protocol.benchmarks.product import commit_rows
from protocol.messages.benchmarks import Challenge, CheckReason, RowOpening
from protocol.messages.manifest import MAX_HOSTS
from tests.validator.cycle.bench_miner import BenchMiner, Work, host
from tests.validator.cycle.conftest import Cycles
from tests.validator.factories import OrganicJobFactory
from validator.models import Miner

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_async_db")]


class RandomAnswers(BenchMiner):
    async def nonces(self, challenge: Challenge) -> list[int]:
        assert challenge.pow is not None
        return [random.getrandbits(64) for _ in range(challenge.pow.count)]

    async def product(self, challenge: Challenge) -> NDArray[Any]:
        assert challenge.matmul is not None
        n = challenge.matmul.n
        return np.random.default_rng().standard_normal((n, n)).astype(np.float32)


class ReplaysAnother(BenchMiner):
    """Waits for an honest miner's answers to the same executor and sends those."""

    def __init__(self, key: Any, source: BenchMiner) -> None:
        super().__init__(key)
        self.source = source

    async def _theirs(self, challenge: Challenge) -> Work:
        name = challenge.executor.key() + "/" + challenge.benchmark
        for _ in range(200):
            work = self.source.work.get(name)
            if work is not None and (work.nonces is not None or work.c is not None):
                return work
            await asyncio.sleep(0.01)
        raise AssertionError("the honest miner never answered")

    async def nonces(self, challenge: Challenge) -> list[int]:
        return list((await self._theirs(challenge)).nonces or [])

    async def product(self, challenge: Challenge) -> NDArray[Any]:
        c = (await self._theirs(challenge)).c
        assert c is not None
        return c.copy()


class ReplaysLastCycle(BenchMiner):
    """Honest in its first cycle; afterwards sends the answers it gave then."""

    def __init__(self, key: Any) -> None:
        super().__init__(key)
        self.remembered: dict[str, Any] = {}

    async def nonces(self, challenge: Challenge) -> list[int]:
        name = challenge.executor.key() + "/pow"
        if name not in self.remembered:
            self.remembered[name] = await super().nonces(challenge)
        return list(self.remembered[name])

    async def product(self, challenge: Challenge) -> NDArray[Any]:
        name = challenge.executor.key() + "/matmul"
        if name not in self.remembered:
            self.remembered[name] = await super().product(challenge)
        return np.array(self.remembered[name])


class FractionOfRows(BenchMiner):
    async def product(self, challenge: Challenge) -> NDArray[Any]:
        c = await super().product(challenge)
        c[::2] = 0.0  # half the rows never computed
        return c


class LowPrecision(BenchMiner):
    async def product(self, challenge: Challenge) -> NDArray[Any]:
        assert challenge.matmul is not None
        seed, n = bytes.fromhex(challenge.matmul.seed), challenge.matmul.n
        a = matrix_rows(seed=seed, which="A", indices=range(n), n=n).astype(np.float16)
        b = matrix_rows(seed=seed, which="B", indices=range(n), n=n).astype(np.float16)
        return (a @ b.T).astype(np.float32)


class Zeros(BenchMiner):
    async def product(self, challenge: Challenge) -> NDArray[Any]:
        assert challenge.matmul is not None
        return np.zeros((challenge.matmul.n, challenge.matmul.n), dtype=np.float32)


class OpeningsOffRoot(BenchMiner):
    """Commits to the honest C, but opens rows with paths from another tree."""

    async def opening(self, work: Work, rows: list[int]) -> list[RowOpening]:
        assert work.c is not None
        _, other = commit_rows(work.c + 1.0)
        honest = await super().opening(work, rows)
        return [o.model_copy(update={"path": [x.hex() for x in merkle_path(other, o.index)]}) for o in honest]


class ChangesRowsAfterChallenge(BenchMiner):
    """Commits to zeros, then computes only the rows it was asked for and sends those."""

    async def commit(self, work: Work) -> bytes:
        assert work.c is not None
        self.real = work.c
        work.c = np.zeros_like(work.c)
        return await super().commit(work)

    async def opening(self, work: Work, rows: list[int]) -> list[RowOpening]:
        work.c = self.real
        return await super().opening(work, rows)


class Late(BenchMiner):
    async def delay(self, challenge: Challenge) -> float:
        return 2.2  # past the (newcomer) deadline of 1.8 s, within the 2 s grace


class Oversized(BenchMiner):
    async def nonces(self, challenge: Challenge) -> list[int]:
        return (await super().nonces(challenge)) + [1, 2, 3]

    async def opening(self, work: Work, rows: list[int]) -> list[RowOpening]:
        extra = [r for r in range(work.c.shape[0]) if r not in rows][:5] if work.c is not None else []
        return await super().opening(work, rows + extra)


class Malformed(BenchMiner):
    async def opening(self, work: Work, rows: list[int]) -> list[RowOpening]:
        honest = await super().opening(work, rows)
        short = base64.b64encode(b"\0" * 12).decode()
        return [honest[0].model_copy(update={"row_b64": short}), *honest[1:]]


class DeclinesBusy(BenchMiner):
    async def refuse(self, challenge: Challenge) -> str | None:
        return "busy"


async def test_cheaters_are_caught_while_the_honest_miner_is_fully_verified(cycles: Cycles, make_hotkey) -> None:
    honest = BenchMiner(make_hotkey())
    shared_engine = "engine-behind-two-hotkeys"
    expected: dict[BenchMiner, dict[str, CheckReason]] = {
        RandomAnswers(make_hotkey()): {"pow": CheckReason.WRONG_ANSWER, "matmul": CheckReason.WRONG_ANSWER},
        ReplaysAnother(make_hotkey(), honest): {"pow": CheckReason.WRONG_ANSWER, "matmul": CheckReason.WRONG_ANSWER},
        FractionOfRows(make_hotkey()): {"matmul": CheckReason.WRONG_ANSWER},
        LowPrecision(make_hotkey()): {"matmul": CheckReason.WRONG_ANSWER},
        Zeros(make_hotkey()): {"matmul": CheckReason.WRONG_ANSWER},
        OpeningsOffRoot(make_hotkey()): {"matmul": CheckReason.BAD_PROOF},
        ChangesRowsAfterChallenge(make_hotkey()): {"matmul": CheckReason.BAD_PROOF},
        Late(make_hotkey()): {"pow": CheckReason.LATE, "matmul": CheckReason.LATE},
        Oversized(make_hotkey()): {"pow": CheckReason.MALFORMED, "matmul": CheckReason.MALFORMED},
        Malformed(make_hotkey()): {"matmul": CheckReason.MALFORMED},
        DeclinesBusy(make_hotkey()): {"pow": CheckReason.DECLINED_BUSY, "matmul": CheckReason.DECLINED_BUSY},
        # 4 executors of 0.5 CPU on a host that reports 1 core.
        BenchMiner(make_hotkey(), [host(executors={"cpu.test": 4}, cores=1)]): {"manifest": CheckReason.OVER_CLAIMED},
        BenchMiner(make_hotkey(), [host(engine=shared_engine)]): {"manifest": CheckReason.DUPLICATE_HOST},
        BenchMiner(make_hotkey(), [host(engine=shared_engine)]): {"manifest": CheckReason.DUPLICATE_HOST},
    }
    await cycles.run([honest, *expected])

    honest_checks = await cycles.checks(honest)
    assert len(honest_checks) == 5  # the host, 2 × pow, 2 × matmul
    assert all(c.reason == CheckReason.PASSED for c in honest_checks), [(c.reason, c.detail) for c in honest_checks]
    for miner, reasons in expected.items():
        checks = await cycles.checks(miner)
        seen = {(c.benchmark, c.reason) for c in checks}
        for benchmark, reason in reasons.items():
            failing = [c for c in checks if c.benchmark == benchmark]
            assert failing, (type(miner).__name__, seen)
            assert all(c.reason == reason and not c.passed for c in failing), (type(miner).__name__, seen)
            assert all(c.detail for c in failing)  # every verdict says why
        if "manifest" in reasons:  # a refuted host is not benchmarked at all
            assert {c.benchmark for c in checks} == {"manifest"}


async def test_last_cycles_answers_do_not_pass_again(cycles: Cycles, make_hotkey) -> None:
    honest, replayer = BenchMiner(make_hotkey()), ReplaysLastCycle(make_hotkey())
    await cycles.run([honest, replayer])
    assert all(c.passed for c in await cycles.checks(replayer))  # honest the first time
    await cycles.run([honest, replayer])
    second = await cycles.checks(replayer)
    assert {(c.benchmark, c.reason) for c in second} == {
        ("manifest", CheckReason.PASSED),
        ("pow", CheckReason.WRONG_ANSWER),
        ("matmul", CheckReason.WRONG_ANSWER),
    }
    assert all(c.passed for c in await cycles.checks(honest))


async def test_a_busy_answer_is_fair_for_executors_running_our_jobs(cycles: Cycles, make_hotkey) -> None:
    busy = DeclinesBusy(make_hotkey(), [host(executors={"cpu.test": 1})])
    await cycles.run([busy])  # creates the miner row
    miner = await Miner.objects.aget(hotkey=busy.key.ss58)
    await sync_to_async(OrganicJobFactory.create)(miner=miner, status="running")
    await cycles.run([busy])
    assert {c.reason for c in await cycles.checks(busy) if c.benchmark != "manifest"} == {CheckReason.BUSY}


async def test_a_miner_that_never_answers_is_recorded(cycles: Cycles, make_hotkey) -> None:
    class Silent(BenchMiner):
        async def script(self, ws: Any, message: Any) -> None:
            return None

    silent, gone = Silent(make_hotkey()), BenchMiner(make_hotkey())
    await cycles.run([silent])
    assert {c.reason for c in await cycles.checks(silent) if c.benchmark != "manifest"} == {CheckReason.NO_ANSWER}
    await Miner.objects.acreate(hotkey=gone.key.ss58, address="127.0.0.1:1")  # nothing listens there
    await cycles.run([])
    [check] = await cycles.checks(gone)
    assert (check.benchmark, check.reason) == ("manifest", CheckReason.NO_ANSWER)


async def test_an_oversized_manifest_is_refused_and_recorded(cycles: Cycles, make_hotkey) -> None:
    class Flooding(BenchMiner):
        async def on_connect(self, ws: Any) -> None:
            hosts = [host(f"h{i}").model_dump(mode="json") for i in range(MAX_HOSTS + 1)]
            await ws.send(json.dumps({"type": "miner.manifest", "hosts": hosts}))

    flooding, honest = Flooding(make_hotkey()), BenchMiner(make_hotkey())
    await cycles.run([flooding, honest])
    [check] = await cycles.checks(flooding)
    assert (check.benchmark, check.reason) == ("manifest", CheckReason.MALFORMED)
    assert "hosts" in check.detail
    assert all(c.passed for c in await cycles.checks(honest))
