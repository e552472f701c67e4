"""Repair (docs/storage.md): a share whose miner keeps failing audits, or left the metagraph, is
rebuilt from the others onto a miner of a new coldkey; the object reads back byte-identical, and
with n − k miners gone it still reads."""

import os
from typing import Any

from tests.validator.storage.conftest import FakeNet
from tests.validator.storage.test_placement import fetch, replies, store
from validator.models import Miner, SharePlacement
from validator.storage.audit import placement_audit
from validator.storage.repair import repairs_run_due


def test_a_failing_miners_share_is_rebuilt_elsewhere_and_reads_back(net: FakeNet, settings: Any) -> None:
    settings.STORAGE_REPAIR_AFTER_FAILURES = 2
    first = [net.add_miner() for _ in range(3)]
    data = os.urandom(100_000)
    request = store(net, data)
    spare = net.add_miner()  # joined after the placement: the only miner of a new coldkey
    victim = first[0]
    victim.down = True
    placement = SharePlacement.objects.get(miner=victim.miner)
    assert repairs_run_due()["shares_rebuilt"] == 0  # one failure is not yet a loss
    placement_audit(placement.id)
    placement_audit(placement.id)

    result = repairs_run_due()

    assert result == {"objects_degraded": 1, "shares_rebuilt": 1, "lost_deleted": 0}
    lost = SharePlacement.objects.get(pk=placement.pk)
    assert lost.status == SharePlacement.Status.LOST
    assert lost.lost_reason == "audits_failed:unreachable"
    rebuilt = SharePlacement.objects.get(object_id=request.object_id, miner=spare.miner)
    assert rebuilt.status == SharePlacement.Status.LIVE
    assert rebuilt.index == placement.index
    assert rebuilt.id != placement.id  # sealed anew for its new miner
    assert len(spare.shares) == 1
    assert replies()[-1]["type"] == "object.health"
    assert replies()[-1]["health"]["shares"] == 3
    first[2].down = True  # left: first[1]'s share and the rebuilt one, k = 2
    assert fetch(net, request.object_id) == data
    first[2].down = False

    victim.down = False  # back: its lost copy is deleted there
    assert repairs_run_due()["lost_deleted"] == 1
    assert not victim.shares


def test_a_miner_gone_from_the_metagraph_is_repaired_at_once(net: FakeNet) -> None:
    miners = [net.add_miner() for _ in range(4)]
    request = store(net, b"keep me" * 1000)
    holding = SharePlacement.objects.filter(object_id=request.object_id).values_list("miner_id", flat=True)
    gone = next(m for m in miners if m.miner.pk in holding)
    Miner.objects.filter(pk=gone.miner.pk).update(is_active=False)
    result = repairs_run_due()
    assert result["objects_degraded"] == 1
    assert result["shares_rebuilt"] == 1
    assert SharePlacement.objects.filter(object_id=request.object_id, status="live").count() == 3


def test_with_n_minus_k_miners_gone_the_object_still_reads(net: FakeNet) -> None:
    miners = [net.add_miner() for _ in range(3)]
    data = os.urandom(30_000)
    request = store(net, data)
    miners[0].down = True  # n − k = 1
    assert fetch(net, request.object_id) == data


def test_no_candidate_leaves_the_object_degraded_but_readable(net: FakeNet, settings: Any) -> None:
    settings.STORAGE_REPAIR_AFTER_FAILURES = 1
    miners = [net.add_miner() for _ in range(3)]
    data = os.urandom(10_000)
    request = store(net, data)
    miners[2].down = True
    placement_audit(SharePlacement.objects.get(miner=miners[2].miner).id)
    assert repairs_run_due()["shares_rebuilt"] == 0
    assert fetch(net, request.object_id) == data
