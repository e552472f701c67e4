"""One miner's part of one phase: send every challenge at once, time each answer on arrival, ask
for openings once a commitment is in, verify, and turn everything into a reasoned verdict.

The miner bounds nothing here: answers for challenges it was not given are ignored, each challenge
gets at most one verdict, and the phase ends at the latest deadline (plus the opening time)
whatever the miner sends."""

import asyncio
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.conf import settings

from protocol.benchmarks.matmul import matmul_check
from protocol.benchmarks.pow import pow_check
from protocol.messages.benchmarks import (
    BenchmarkFailed,
    BenchmarkKind,
    BenchmarkStart,
    CheckReason,
    MatmulCommit,
    MatmulOpening,
    OpenRequest,
    PowAnswer,
)
from validator.cycle.plan import Planned
from validator.miner_links import LinkLost, MinerLink
from validator.services.benchmarks import CheckOutcome

logger = logging.getLogger(__name__)
_random = secrets.SystemRandom()


@dataclass
class _Pending:
    planned: Planned
    seconds: float | None = None  # when the answer (or the commitment) arrived, from the start
    root: bytes | None = None
    rows: list[int] | None = None
    columns: list[int] | None = None
    opening_due: float | None = None


def _outcome(p: _Pending, reason: CheckReason, detail: str, **params: object) -> CheckOutcome:
    ch = p.planned.challenge
    efficiency = None
    if reason == CheckReason.PASSED and p.seconds:
        efficiency = round(min(settings.VALIDATOR_EFFICIENCY_CAP, p.planned.reference_s / p.seconds), 4)
    asked = ch.pow.model_dump() if ch.pow else {"n": ch.matmul.n if ch.matmul else 0}
    if "challenge" in asked:
        asked.pop("challenge")
    return CheckOutcome(
        executor=ch.executor.key(),
        executor_class=ch.executor.executor_class,
        benchmark=str(ch.benchmark),
        reason=reason,
        detail=detail[:4000],
        seconds=None if p.seconds is None else round(p.seconds, 4),
        deadline_s=round(p.planned.deadline_s, 4),
        efficiency=efficiency,
        params={**asked, **params},
    )


class PhaseSession:
    def __init__(self, *, link: MinerLink, cycle: int, planned: Sequence[Planned], verify: asyncio.Semaphore) -> None:
        self.link = link
        self.cycle = cycle
        self.pending = {p.challenge.challenge_id: _Pending(p) for p in planned}
        self.verdicts: dict[UUID, CheckOutcome] = {}
        self.verify = verify
        self.t0 = 0.0

    async def run(self) -> list[CheckOutcome]:
        if not self.pending:
            return []
        self.t0 = time.monotonic()
        start = BenchmarkStart(cycle=self.cycle, challenges=[p.planned.challenge for p in self.pending.values()])
        try:
            await self.link.send(start)
            await self._collect()
        except LinkLost as exc:
            self._close_all(CheckReason.NO_ANSWER, f"link to the miner lost: {exc}")
        self._close_all(CheckReason.NO_ANSWER, "no answer before the deadline")
        return list(self.verdicts.values())

    def _end(self) -> float:
        """The phase ends at the last deadline (plus the grace in which a late answer is still seen
        as late), or later while an opening we asked for is due."""
        open_ = [p.opening_due for p in self._open() if p.opening_due is not None]
        grace = settings.VALIDATOR_LATE_GRACE_S
        deadlines = [self.t0 + p.planned.deadline_s + grace for p in self._open() if p.opening_due is None]
        return max(open_ + deadlines, default=time.monotonic())

    def _open(self) -> list[_Pending]:
        return [p for cid, p in self.pending.items() if cid not in self.verdicts]

    def _close_all(self, reason: CheckReason, detail: str) -> None:
        for p in self._open():
            if p.root is not None:
                detail = "committed, but the opening never came" if reason == CheckReason.NO_ANSWER else detail
            self.verdicts[p.planned.challenge.challenge_id] = _outcome(p, reason, detail)

    async def _collect(self) -> None:
        while self._open():
            remaining = self._end() - time.monotonic()
            if remaining <= 0:
                return
            try:
                item = await asyncio.wait_for(self.link.answers.get(), remaining)
            except TimeoutError:
                return
            if isinstance(item, Exception):
                raise LinkLost(str(item))
            arrived, message = item
            await self._on_answer(arrived, message)

    async def _on_answer(self, arrived: float, message: Any) -> None:
        p = self.pending.get(message.challenge_id)
        if p is None or message.challenge_id in self.verdicts:
            return  # not ours, or already decided: a second answer changes nothing
        cid = message.challenge_id
        if isinstance(message, BenchmarkFailed):
            self.verdicts[cid] = _outcome(p, *_refusal(message))
            return
        kind = p.planned.challenge.benchmark
        if isinstance(message, MatmulOpening):
            if p.root is None:
                self.verdicts[cid] = _outcome(p, CheckReason.MALFORMED, "an opening before any commitment")
                return
            self.verdicts[cid] = await self._check_opening(p, message)
            return
        if isinstance(message, PowAnswer) != (kind == BenchmarkKind.POW) or p.root is not None:
            self.verdicts[cid] = _outcome(
                p, CheckReason.MALFORMED, f"{message.type} does not answer a {kind} challenge"
            )
            return
        p.seconds = arrived - self.t0
        if p.seconds > p.planned.deadline_s:
            detail = f"answered after {p.seconds:.2f} s; the deadline was {p.planned.deadline_s:.2f} s"
            self.verdicts[cid] = _outcome(p, CheckReason.LATE, detail)
            return
        if isinstance(message, PowAnswer):
            self.verdicts[cid] = await self._check_pow(p, message)
        elif isinstance(message, MatmulCommit):
            await self._ask_opening(p, message)

    async def _check_pow(self, p: _Pending, answer: PowAnswer) -> CheckOutcome:
        params = p.planned.challenge.pow
        assert params is not None
        reason, detail = pow_check(
            challenge=bytes.fromhex(params.challenge),
            difficulty=params.difficulty,
            count=params.count,
            nonces=answer.nonces,
        )
        return _outcome(p, reason, detail or f"{params.count} solutions at {params.difficulty} bits")

    async def _ask_opening(self, p: _Pending, commit: MatmulCommit) -> None:
        params = p.planned.challenge.matmul
        assert params is not None
        p.root = bytes.fromhex(commit.root)
        # Chosen only now, after the root is fixed: the miner cannot tailor the rows it computed.
        p.rows = sorted(_random.sample(range(params.n), min(settings.VALIDATOR_MATMUL_ROWS, params.n)))
        p.columns = sorted(_random.sample(range(params.n), min(settings.VALIDATOR_MATMUL_COLUMNS, params.n)))
        p.opening_due = time.monotonic() + settings.VALIDATOR_OPENING_TIMEOUT_S
        await self.link.send(OpenRequest(challenge_id=p.planned.challenge.challenge_id, rows=p.rows))

    async def _check_opening(self, p: _Pending, opening: MatmulOpening) -> CheckOutcome:
        params = p.planned.challenge.matmul
        assert params is not None
        assert p.root is not None
        assert p.rows is not None
        assert p.columns is not None
        root, rows, columns = p.root, p.rows, p.columns
        async with self.verify:  # bounded: arithmetic runs in threads, a few at a time
            reason, detail = await asyncio.to_thread(
                matmul_check,
                seed=bytes.fromhex(params.seed),
                n=params.n,
                root=root,
                openings=opening.rows,
                rows=rows,
                columns=columns,
            )
        detail = detail or f"{len(rows)} rows × {len(columns)} columns match"
        return _outcome(p, reason, detail, rows=len(rows), columns=len(columns))


def _refusal(message: BenchmarkFailed) -> tuple[CheckReason, str]:
    if message.reason == "busy":
        return CheckReason.DECLINED_BUSY, message.detail or "the miner said the executor is busy"
    return CheckReason.EXECUTOR_FAILED, f"{message.reason}: {message.detail}"
