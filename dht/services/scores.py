"""Commit-reveal bookkeeping: our own commits, the frozen commits of every validator, reveal checks
and pairwise agreement."""

from collections.abc import Callable
from itertools import combinations

from django.db import transaction
from django.utils import timezone

from dht.models import OwnScoreCommit, ScoreReveal, ValidatorAgreement
from dht.policy.scores import agreement
from dht.policy.values import ScoreRevealValue


def dht_own_commit_save(*, holder: str, epoch: int, salt: str, scores: dict[str, float], digest: str) -> None:
    OwnScoreCommit.objects.update_or_create(
        holder=holder, epoch=epoch, defaults={"salt": salt, "scores": scores, "digest": digest, "revealed_at": None}
    )


def dht_own_commit_mark_revealed(*, holder: str, epoch: int) -> None:
    OwnScoreCommit.objects.filter(holder=holder, epoch=epoch).update(revealed_at=timezone.now())


def dht_commits_freeze(*, holder: str, epoch: int, digests: dict[str, str]) -> int:
    """Store each validator's commit digest unless one is already frozen; returns how many new."""
    created = 0
    for validator, digest in digests.items():
        _, new = ScoreReveal.objects.get_or_create(
            holder=holder, epoch=epoch, validator=validator, defaults={"digest": digest}
        )
        created += new
    return created


def dht_reveals_check(
    *, holder: str, epoch: int, reveals: dict[str, ScoreRevealValue], digest: Callable[..., str]
) -> dict[str, str]:
    now = timezone.now()
    verdicts: dict[str, str] = {}
    valid: dict[str, dict[str, float]] = {}
    with transaction.atomic():
        frozen = {r.validator: r for r in ScoreReveal.objects.select_for_update().filter(holder=holder, epoch=epoch)}
        for validator, reveal in reveals.items():
            row = frozen.get(validator)
            if reveal.epoch != epoch:
                reason = "reveal for another epoch"
            elif row is None or not row.digest:
                reason = "no commit seen in the commit window"
            elif digest(salt=reveal.salt, scores=reveal.scores) != row.digest:
                reason = "reveal does not match the commit"
            else:
                reason = ""
                valid[validator] = dict(reveal.scores)
            verdicts[validator] = reason or "ok"
            ScoreReveal.objects.update_or_create(
                holder=holder,
                epoch=epoch,
                validator=validator,
                defaults={"scores": dict(reveal.scores), "valid": not reason, "reason": reason, "checked_at": now},
            )
        for validator, row in frozen.items():
            if validator not in reveals:
                verdicts[validator] = "committed but never revealed"
                ScoreReveal.objects.filter(pk=row.pk).update(valid=False, reason=verdicts[validator], checked_at=now)
        for a, b in combinations(sorted(valid), 2):
            score, miners = agreement(valid[a], valid[b])
            ValidatorAgreement.objects.update_or_create(
                holder=holder,
                epoch=epoch,
                validator_a=a,
                validator_b=b,
                defaults={"agreement": score, "miners": miners},
            )
    return verdicts
