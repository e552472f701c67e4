"""Audits of placed shares (docs/storage.md, "Proof of storage"): an honest miner passes; one that
dropped, corrupted, regenerated or borrowed another miner's copy fails with its reason, as does a
late, garbled or oversized answer; each audit is a row and failures accumulate."""

import os
from typing import Any

import pytest

from protocol.storage.audit import AuditFailure
from tests.validator.storage.conftest import FakeMiner, FakeNet
from tests.validator.storage.test_placement import replies, store
from validator.models import ShareAudit, SharePlacement, StoredObject
from validator.storage.audit import audits_run_due, placement_audit


def placed(net: FakeNet, count: int = 3) -> tuple[list[FakeMiner], StoredObject]:
    miners = [net.add_miner() for _ in range(count)]
    request = store(net, os.urandom(40_000))
    return miners, StoredObject.objects.get(pk=request.object_id)


def placement_on(fake: FakeMiner) -> SharePlacement:
    return SharePlacement.objects.get(miner=fake.miner)


def test_an_honest_miner_passes_and_the_object_is_verified(net: FakeNet) -> None:
    _, obj = placed(net)
    counts = audits_run_due()
    assert counts == {"passed": 3, "failed": 0}
    assert ShareAudit.objects.filter(passed=True).count() == 3
    assert StoredObject.objects.get(pk=obj.pk).verified_at is not None
    assert replies()[-1]["type"] == "object.health"
    assert audits_run_due() == {"passed": 0, "failed": 0}  # nothing due again until the interval


@pytest.mark.parametrize(
    ("mode", "reason"),
    [("zeros", AuditFailure.BAD_PROOF), ("garbage", AuditFailure.MALFORMED), ("huge", AuditFailure.MALFORMED)],
)
def test_a_cheating_or_hostile_miner_fails_with_its_reason(net: FakeNet, mode: str, reason: AuditFailure) -> None:
    miners, _ = placed(net)
    miners[0].audit_mode = mode
    audit = placement_audit(placement_on(miners[0]).id)
    assert not audit.passed
    assert audit.reason == reason
    assert placement_on(miners[0]).consecutive_failures == 1


def test_a_dropped_share_is_missing(net: FakeNet) -> None:
    miners, _ = placed(net)
    miners[0].shares.clear()
    audit = placement_audit(placement_on(miners[0]).id)
    assert audit.reason == AuditFailure.MISSING


def test_another_miners_copy_does_not_pass(net: FakeNet) -> None:
    miners, _ = placed(net)
    miners[0].audit_mode, miners[0].copy_from = "copy", miners[1]
    assert placement_audit(placement_on(miners[0]).id).reason == AuditFailure.BAD_PROOF


def test_a_late_answer_fails_even_if_correct(net: FakeNet, settings: Any) -> None:
    settings.STORAGE_AUDIT_DEADLINE_S = 0.2
    miners, _ = placed(net)
    miners[0].audit_mode, miners[0].delay_s = "slow", 0.4
    assert placement_audit(placement_on(miners[0]).id).reason == AuditFailure.TIMEOUT


def test_an_unreachable_miner_fails_and_failures_accumulate(net: FakeNet) -> None:
    miners, obj = placed(net)
    miners[0].down = True
    placement_audit(placement_on(miners[0]).id)
    placement_audit(placement_on(miners[0]).id)
    placement = placement_on(miners[0])
    assert placement.consecutive_failures == 2
    assert list(placement.audits.values_list("reason", flat=True)) == ["unreachable", "unreachable"]
    assert StoredObject.objects.get(pk=obj.pk).verified_at is not None  # set at placement, not renewed
