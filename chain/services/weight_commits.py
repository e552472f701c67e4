"""Pending weight commits in Postgres: saved before the commit is sent, claimed before the reveal."""

from django.db.models import QuerySet

from chain.models import WeightCommit

Status = WeightCommit.Status


def weight_commit_create(
    *,
    chain: str,
    netuid: int,
    hotkey: str,
    commit_hash: str,
    uids: list[int],
    values: list[int],
    salt: list[int],
    version_key: int,
) -> WeightCommit:
    return WeightCommit.objects.create(
        chain=chain,
        netuid=netuid,
        hotkey=hotkey,
        commit_hash=commit_hash,
        uids=uids,
        values=values,
        salt=salt,
        version_key=version_key,
    )


def weight_commit_committed(*, commit: WeightCommit, window: tuple[int, int, int]) -> None:
    """On chain at `window` = (commit block, first reveal block, last reveal block)."""
    commit.commit_block, commit.reveal_from_block, commit.reveal_until_block = window
    commit.status = Status.COMMITTED
    commit.save(update_fields=["commit_block", "reveal_from_block", "reveal_until_block", "status", "updated_at"])


def weight_commit_finish(*, commit: WeightCommit, status: str, error: str = "", block: int | None = None) -> None:
    commit.status = status
    commit.error = error[:2000]
    commit.revealed_block = block
    commit.save(update_fields=["status", "error", "revealed_block", "updated_at"])


def weight_commits_unconfirmed(*, chain: str, netuid: int) -> QuerySet[WeightCommit]:
    """Saved, but whether the commit landed is unknown (the process stopped while sending it)."""
    return WeightCommit.objects.filter(chain=chain, netuid=netuid, status=Status.COMMITTING).order_by("id")


def weight_commits_due(*, chain: str, netuid: int, block: int) -> QuerySet[WeightCommit]:
    return WeightCommit.objects.filter(
        chain=chain, netuid=netuid, status=Status.COMMITTED, reveal_from_block__lte=block
    ).order_by("id")


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
