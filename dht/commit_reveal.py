"""Commit-reveal of validator scores over the DHT, and the validator's driver for it.

Commit window: each validator stores `scores-commit:<epoch>` = sha256(salt ‖ canonical(scores)).
When the window closes every validator freezes the commits it sees (later re-commits cannot change
what it checks against). Reveal window: each stores `scores-reveal:<epoch>` = {salt, scores}. After
it, every validator checks each reveal against the frozen commit and records pairwise agreement.
Revealed bytes are parsed by a strict pydantic schema from canonical JSON: never unpickled. The
driver is idempotent per epoch (state lives in Postgres), so a restart never re-commits with a
fresh salt. The rules (schedule, digest, agreement) are in dht/policy/scores.py."""

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable

from dht.engine.node import DhtNode
from dht.policy.namespaces import commit_key, reveal_key
from dht.policy.scores import EpochSchedule, scores_digest
from dht.policy.values import ScoreCommitValue, ScoreRevealValue
from dht.providers import ScoresProvider
from dht.selectors import dht_own_commit_get
from dht.services.scores import (
    dht_commits_freeze,
    dht_own_commit_mark_revealed,
    dht_own_commit_save,
    dht_reveals_check,
)
from protocol.database import db_sync_to_async

logger = logging.getLogger(__name__)


async def scores_commit(node: DhtNode, *, holder: str, epoch: int, scores: dict[str, float], ttl_s: float) -> str:
    """Commit our scores for `epoch`; returns the digest. The salt stays in our database."""
    salt = secrets.token_hex(16)
    clean = {k: float(v) for k, v in scores.items()}
    digest = scores_digest(salt=salt, scores=clean)
    value = ScoreCommitValue(epoch=epoch, digest=digest).model_dump()
    await db_sync_to_async(dht_own_commit_save)(holder=holder, epoch=epoch, salt=salt, scores=clean, digest=digest)
    await node.put(commit_key(epoch), value, ttl_s=ttl_s)
    return digest


async def scores_reveal(node: DhtNode, *, holder: str, epoch: int, ttl_s: float) -> bool:
    """Reveal what we committed for `epoch`; False when we committed nothing."""
    own = await db_sync_to_async(dht_own_commit_get)(holder=holder, epoch=epoch)
    if own is None:
        return False
    value = ScoreRevealValue(epoch=epoch, salt=own.salt, scores=own.scores).model_dump()
    await node.put(reveal_key(epoch), value, ttl_s=ttl_s)
    await db_sync_to_async(dht_own_commit_mark_revealed)(holder=holder, epoch=epoch)
    return True


async def commits_freeze(node: DhtNode, *, holder: str, epoch: int) -> int:
    """Record the commits visible now (call when the commit window closes); first seen wins."""
    records = await node.get(commit_key(epoch))
    digests: dict[str, str] = {}
    for record in records.values():
        commit = ScoreCommitValue.model_validate(record.value)  # already schema-checked on receipt
        if commit.epoch == epoch:
            digests[record.owner] = commit.digest
    return await db_sync_to_async(dht_commits_freeze)(holder=holder, epoch=epoch, digests=digests)


async def reveals_check(node: DhtNode, *, holder: str, epoch: int) -> dict[str, str]:
    """Check every reveal against its frozen commit and record agreement; returns validator →
    "ok" or the reason its reveal was refused."""
    records = await node.get(reveal_key(epoch))
    reveals = {r.owner: ScoreRevealValue.model_validate(r.value) for r in records.values()}
    return await db_sync_to_async(dht_reveals_check)(holder=holder, epoch=epoch, reveals=reveals, digest=scores_digest)


async def commit_reveal_step(
    node: DhtNode,
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
    own = await db_sync_to_async(dht_own_commit_get)(holder=holder, epoch=epoch)
    if schedule.in_commit(phase):
        if own is None and ("commit", epoch) not in done:
            done.add(("commit", epoch))
            values = await db_sync_to_async(scores)(epoch)
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
    node: DhtNode,
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
