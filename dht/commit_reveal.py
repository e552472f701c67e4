"""Commit-reveal of validator scores over the DHT.

Commit window: each validator stores `scores-commit:<epoch>` = sha256(salt ‖ canonical(scores)).
When the window closes every validator freezes the commits it sees (later re-commits cannot change
what it checks against). Reveal window: each stores `scores-reveal:<epoch>` = {salt, scores}. After
it, every validator checks each reveal against the frozen commit and records pairwise agreement.
Revealed bytes are parsed by a strict pydantic schema from canonical JSON: never unpickled."""

import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async

from dht.codec import canonical
from dht.schemas import ScoreCommitValue, ScoreRevealValue
from dht.services import scores as svc

if TYPE_CHECKING:
    from dht.node import DhtNode


def commit_key(epoch: int) -> str:
    return f"scores-commit:{epoch}"


def reveal_key(epoch: int) -> str:
    return f"scores-reveal:{epoch}"


def scores_digest(*, salt: str, scores: dict[str, float]) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + canonical(scores)).hexdigest()


@dataclass(frozen=True)
class Phase:
    epoch: int
    fraction: float  # 0 ≤ fraction < 1 through the epoch


@dataclass(frozen=True)
class EpochSchedule:
    epoch_blocks: int
    commit_fraction: float
    reveal_fraction: float

    def phase(self, block: int) -> Phase:
        return Phase(epoch=block // self.epoch_blocks, fraction=(block % self.epoch_blocks) / self.epoch_blocks)

    def in_commit(self, phase: Phase) -> bool:
        return phase.fraction < self.commit_fraction

    def in_reveal(self, phase: Phase) -> bool:
        return self.commit_fraction <= phase.fraction < self.reveal_fraction


async def scores_commit(node: "DhtNode", *, holder: str, epoch: int, scores: dict[str, float], ttl_s: float) -> str:
    """Commit our scores for `epoch`; returns the digest. The salt stays in our database."""
    salt = secrets.token_hex(16)
    clean = {k: float(v) for k, v in scores.items()}
    digest = scores_digest(salt=salt, scores=clean)
    value = ScoreCommitValue(epoch=epoch, digest=digest).model_dump()
    await sync_to_async(svc.dht_own_commit_save, thread_sensitive=True)(
        holder=holder, epoch=epoch, salt=salt, scores=clean, digest=digest
    )
    await node.put(commit_key(epoch), value, ttl_s=ttl_s)
    return digest


async def scores_reveal(node: "DhtNode", *, holder: str, epoch: int, ttl_s: float) -> bool:
    """Reveal what we committed for `epoch`; False when we committed nothing."""
    own = await sync_to_async(svc.dht_own_commit_get, thread_sensitive=True)(holder=holder, epoch=epoch)
    if own is None:
        return False
    value = ScoreRevealValue(epoch=epoch, salt=own.salt, scores=own.scores).model_dump()
    await node.put(reveal_key(epoch), value, ttl_s=ttl_s)
    await sync_to_async(svc.dht_own_commit_mark_revealed, thread_sensitive=True)(holder=holder, epoch=epoch)
    return True


async def commits_freeze(node: "DhtNode", *, holder: str, epoch: int) -> int:
    """Record the commits visible now (call when the commit window closes); first seen wins."""
    records = await node.get(commit_key(epoch))
    digests: dict[str, str] = {}
    for record in records.values():
        commit = ScoreCommitValue.model_validate(record.value)  # already schema-checked on receipt
        if commit.epoch == epoch:
            digests[record.owner] = commit.digest
    return await sync_to_async(svc.dht_commits_freeze, thread_sensitive=True)(
        holder=holder, epoch=epoch, digests=digests
    )


async def reveals_check(node: "DhtNode", *, holder: str, epoch: int) -> dict[str, str]:
    """Check every reveal against its frozen commit and record agreement; returns validator →
    "ok" or the reason its reveal was refused."""
    records = await node.get(reveal_key(epoch))
    reveals = {r.owner: ScoreRevealValue.model_validate(r.value) for r in records.values()}
    return await sync_to_async(svc.dht_reveals_check, thread_sensitive=True)(
        holder=holder, epoch=epoch, reveals=reveals, digest=scores_digest
    )
