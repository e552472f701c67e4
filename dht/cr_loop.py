"""The validator's commit-reveal driver: commit in the commit window, freeze commits and reveal in
the reveal window, check after it. Idempotent per epoch (state lives in Postgres), so a restart
never re-commits with a fresh salt."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async

from dht.commit_reveal import EpochSchedule, commits_freeze, reveals_check, scores_commit, scores_reveal
from dht.services import scores as svc

if TYPE_CHECKING:
    from dht.node import DhtNode

logger = logging.getLogger(__name__)
ScoresProvider = Callable[[int], dict[str, float] | None]


async def commit_reveal_step(
    node: "DhtNode",
    *,
    holder: str,
    schedule: EpochSchedule,
    block: int,
    scores: ScoresProvider,
    ttl_s: float,
    done: set[tuple[str, int]],
) -> str | None:
    """Do whatever the current phase asks for, once; returns what was done."""
    phase = schedule.phase(block)
    epoch = phase.epoch
    own = await sync_to_async(svc.dht_own_commit_get, thread_sensitive=True)(holder=holder, epoch=epoch)
    if schedule.in_commit(phase):
        if own is None and ("commit", epoch) not in done:
            done.add(("commit", epoch))
            values = await sync_to_async(scores, thread_sensitive=True)(epoch)
            if values:
                await scores_commit(node, holder=holder, epoch=epoch, scores=values, ttl_s=ttl_s)
                return "commit"
        return None
    if schedule.in_reveal(phase):
        if ("freeze", epoch) not in done:
            done.add(("freeze", epoch))
            await commits_freeze(node, holder=holder, epoch=epoch)
            return "freeze"
        if own is not None and own.revealed_at is None:
            await scores_reveal(node, holder=holder, epoch=epoch, ttl_s=ttl_s)
            return "reveal"
        return None
    if ("check", epoch) not in done and ("freeze", epoch) in done:
        done.add(("check", epoch))
        await reveals_check(node, holder=holder, epoch=epoch)
        return "check"
    return None


async def commit_reveal_loop(
    node: "DhtNode",
    *,
    holder: str,
    schedule: EpochSchedule,
    block: Callable[[], Awaitable[int]],
    scores: ScoresProvider,
    ttl_s: float,
    poll_s: float = 5.0,
) -> None:
    done: set[tuple[str, int]] = set()
    while True:
        try:
            await commit_reveal_step(
                node, holder=holder, schedule=schedule, block=await block(), scores=scores, ttl_s=ttl_s, done=done
            )
        except Exception:
            logger.exception("dht: commit-reveal step failed")
        await asyncio.sleep(poll_s)
