"""Proven storage feeds the scores (docs/storage.md, docs/scoring.md): points per GB whose audits
passed in the window, reduced by failed audits, zeroed by answers that do not prove; grouped by
coldkey like the rest. The inputs come from placements and audits in the window."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.validator.factories import MinerFactory
from validator.models import ShareAudit, SharePlacement, StoredObject
from validator.scoring.formula import STORAGE_CLASS, MinerInputs, Params, PenaltyReason, scores_compute
from validator.scoring.inputs import storage_inputs

GB = 10**9
PARAMS = Params(values={}, storage_per_gb=2.0, failed_checks=0.5, cheat_factor=0.0)


def storage_only(**kw: object) -> MinerInputs:
    return MinerInputs(hotkey="5M", coldkey="c", **kw)  # type: ignore[arg-type]


def test_proven_gigabytes_earn_points() -> None:
    [result] = scores_compute(
        [storage_only(storage_placed_bytes=3 * GB, storage_proven_bytes=3 * GB, storage_audits={"": 6})], PARAMS
    )
    [storage] = result.classes
    assert storage.inputs.executor_class == STORAGE_CLASS
    assert storage.points == pytest.approx(6.0)
    assert result.score == pytest.approx(6.0)


def test_only_what_audits_proved_counts_and_failures_reduce_it() -> None:
    [result] = scores_compute(
        [storage_only(storage_placed_bytes=4 * GB, storage_proven_bytes=2 * GB, storage_audits={"": 3, "timeout": 1})],
        PARAMS,
    )
    assert [p.reason for p in result.penalties] == [PenaltyReason.STORAGE_AUDITS_FAILED]
    assert result.penalties[0].factor == pytest.approx(1 - 0.5 * 1 / 4)
    assert result.score == pytest.approx(2 * 2.0 * (1 - 0.125))


def test_an_answer_that_does_not_prove_zeroes_the_storage_points() -> None:
    [result] = scores_compute(
        [storage_only(storage_placed_bytes=GB, storage_proven_bytes=GB, storage_audits={"": 5, "bad_proof": 1})], PARAMS
    )
    assert PenaltyReason.CHEATED in [p.reason for p in result.penalties]
    assert result.score == 0.0


def test_a_miner_without_storage_has_no_storage_class() -> None:
    [result] = scores_compute([storage_only()], PARAMS)
    assert result.classes == []


@pytest.mark.django_db
def test_inputs_count_live_placements_and_audits_in_the_window() -> None:
    miner = MinerFactory.create()
    now = timezone.now()
    obj = StoredObject.objects.create(
        id=uuid.uuid4(), size=10, sha256="0" * 64, ciphertext_size=38, wrapped_key=b"k", k=1, n=2, status="stored"
    )
    common = {"object": obj, "miner": miner, "coldkey": "c", "chunk_bytes": 1024, "root": "0" * 64, "status": "live"}
    proven = SharePlacement.objects.create(index=0, size=100, last_passed_at=now - timedelta(minutes=1), **common)
    SharePlacement.objects.create(index=1, size=50, consecutive_failures=1, **common)
    ShareAudit.objects.create(placement=proven, passed=True)
    ShareAudit.objects.create(placement=proven, passed=False, reason="timeout")
    found = storage_inputs(window_start=now - timedelta(hours=1), window_end=now + timedelta(seconds=1))
    assert found[miner.pk] == {
        "storage_audits": {"": 1, "timeout": 1},
        "storage_placed_bytes": 150,
        "storage_proven_bytes": 100,
    }
