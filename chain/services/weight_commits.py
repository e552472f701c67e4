"""Setting weights, and commit-reveal's state in Postgres: the salt and the weights are saved before
the commit is sent and kept until the reveal lands, so a restart between the two loses nothing.

The client only sends extrinsics and reads the chain (`chain.interface.CommitRevealChain`)."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from chain.interface import ChainClient, ChainError, ChainUnavailable, CommitRevealChain, RateLimited, WeightsPlan
from chain.models import WeightCommit
from chain.selectors import weight_commits_due, weight_commits_open_exist, weight_commits_unconfirmed
from chain.substrate.weights import commit_hash, new_salt

logger = logging.getLogger(__name__)
Status = WeightCommit.Status
UNCONFIRMED_GRACE = timedelta(minutes=10)  # a commit not on chain by then never landed


@dataclass(frozen=True)
class WeightsOutcome:
    """What `weights_set` did: set the weights directly, or committed them (revealed later)."""

    committed: bool
    block: int | None  # the block they were set or committed at; None when the chain did not say
    commit_hash: str = ""  # the `WeightCommit` to follow until its reveal


def weights_set(*, client: ChainClient, hotkey: str, weights: dict[str, float]) -> WeightsOutcome:
    """Set `hotkey`'s weights, committing them instead where the subnet requires commit-reveal
    (revealed later by `weight_commits_reveal`)."""
    if not isinstance(client, CommitRevealChain):
        client.set_weights(hotkey=hotkey, weights=weights)
        return WeightsOutcome(committed=False, block=_head(client))
    plan = client.weights_plan(hotkey=hotkey, weights=weights)
    if plan.commit_reveal:
        row = weight_commit_send(client=client, plan=plan)
        return WeightsOutcome(committed=True, block=row.commit_block, commit_hash=row.commit_hash)
    client.weights_send(plan)
    return WeightsOutcome(committed=False, block=_head(client))


def _head(client: ChainClient) -> int | None:
    """The block right after the weights landed. A failed read must not make a caller retry weights
    the chain already took."""
    try:
        return client.current_block()
    except ChainError as exc:
        logger.info("chain: the block after setting weights is unknown: %s: %s", exc.name, exc)
        return None


def weight_commit_send(*, client: CommitRevealChain, plan: WeightsPlan) -> WeightCommit:
    salt = new_salt()
    digest = commit_hash(
        account=plan.account,
        netuid=client.netuid,
        uids=plan.uids,
        values=plan.values,
        salt=salt,
        version_key=plan.version_key,
    )
    row = WeightCommit.objects.create(
        chain=client.name,
        netuid=client.netuid,
        hotkey=plan.hotkey,
        commit_hash=digest,
        uids=plan.uids,
        values=plan.values,
        salt=salt,
        version_key=plan.version_key,
    )
    try:
        client.weights_commit(plan, commit_hash=digest)
    except ChainUnavailable:
        raise  # it may have landed: left `committing`, confirmed or failed by the next reveal round
    except ChainError as exc:
        weight_commit_finish(commit=row, status=Status.FAILED, error=f"{exc.name}: {exc}")
        raise
    weight_commit_confirm(client=client, commit=row)
    return row


def weight_commit_confirm(*, client: CommitRevealChain, commit: WeightCommit) -> bool:
    """Find the commit on chain and record its reveal window."""
    on_chain = client.weights_commits(hotkey=commit.hotkey)
    window = next((c for c in on_chain if c.commit_hash == commit.commit_hash), None)
    if window is None:
        return False
    commit.commit_block = window.commit_block
    commit.reveal_from_block = window.reveal_from_block
    commit.reveal_until_block = window.reveal_until_block
    commit.status = Status.COMMITTED
    commit.save(update_fields=["commit_block", "reveal_from_block", "reveal_until_block", "status", "updated_at"])
    return True


def weight_commits_reveal(*, client: ChainClient) -> int:
    """Reveal every commit whose window is open; expire those whose window has passed. Returns how
    many were revealed (0 on a chain without commit-reveal)."""
    if not isinstance(client, CommitRevealChain):
        return 0
    if not weight_commits_open_exist(chain=client.name, netuid=client.netuid):
        return 0  # nothing pending: no chain round trip
    for row in weight_commits_unconfirmed(chain=client.name, netuid=client.netuid):
        if not weight_commit_confirm(client=client, commit=row) and timezone.now() - row.created_at > UNCONFIRMED_GRACE:
            weight_commit_finish(commit=row, status=Status.FAILED, error="the commit never appeared on chain")
    block = client.current_block()
    revealed = 0
    for row in weight_commits_due(chain=client.name, netuid=client.netuid, block=block):
        if row.reveal_until_block is not None and block > row.reveal_until_block:
            weight_commit_finish(
                commit=row, status=Status.EXPIRED, error=f"reveal window ended at {row.reveal_until_block}"
            )
            continue
        if weight_commit_claim(commit=row):
            revealed += _reveal(client, row, block)
    return revealed


def _reveal(client: CommitRevealChain, row: WeightCommit, block: int) -> int:
    try:
        client.weights_reveal(
            hotkey=row.hotkey, uids=row.uids, values=row.values, salt=row.salt, version_key=row.version_key
        )
    except (RateLimited, ChainUnavailable) as exc:
        weight_commit_release(commit=row, error=f"{exc.name}: {exc}")
        logger.info("chain: reveal of %s by %s deferred: %s: %s", row.commit_hash, row.hotkey, exc.name, exc)
        return 0
    except ChainError as exc:
        weight_commit_finish(commit=row, status=Status.FAILED, error=f"{exc.name}: {exc}")
        logger.warning("chain: reveal of %s by %s failed: %s: %s", row.commit_hash, row.hotkey, exc.name, exc)
        return 0
    weight_commit_finish(commit=row, status=Status.REVEALED, block=block)
    return 1


def weight_commit_finish(*, commit: WeightCommit, status: Status, error: str = "", block: int | None = None) -> None:
    commit.status = status
    commit.error = error[:2000]
    commit.revealed_block = block
    commit.save(update_fields=["status", "error", "revealed_block", "updated_at"])


def weight_commit_claim(*, commit: WeightCommit) -> bool:
    """committed → revealing, for exactly one worker."""
    claimed = WeightCommit.objects.filter(pk=commit.pk, status=Status.COMMITTED).update(status=Status.REVEALING)
    if claimed:
        commit.status = Status.REVEALING
    return bool(claimed)


def weight_commit_release(*, commit: WeightCommit, error: str) -> None:
    """revealing → committed: a transient failure; the next round tries again."""
    WeightCommit.objects.filter(pk=commit.pk, status=Status.REVEALING).update(
        status=Status.COMMITTED, error=error[:2000]
    )
