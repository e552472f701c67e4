import os
import random
from uuid import uuid4

import pytest

from tests.validator.storage.conftest import FakeNet
from tests.validator.storage.test_placement import fetch, replies, store, three_miners
from validator.models import ShareAudit, SharePlacement


def test_tampered_share_is_detected_and_skipped(net: FakeNet, monkeypatch: pytest.MonkeyPatch) -> None:
    three_miners(net)
    liar = net.add_miner(tamper=True, declared=1 << 40)  # placed first: certainly holds a share
    data = os.urandom(50_000)
    request = store(net, data)
    # The read order is random; here the liar's share is read first.
    monkeypatch.setattr(random, "shuffle", lambda ps: ps.sort(key=lambda p: p.miner_id != liar.miner.pk))
    assert fetch(net, request.object_id) == data
    bad = SharePlacement.objects.get(miner=liar.miner)
    assert bad.status == SharePlacement.Status.LOST
    assert bad.lost_reason == "corrupt"
    assert bad.consecutive_failures == 1
    audit = ShareAudit.objects.get(placement=bad)
    assert not audit.passed
    assert audit.reason == "bad_proof"
    assert any(r["type"] == "object.health" and r["health"]["shares"] == 2 for r in replies())


def test_fewer_than_k_intact_is_unrecoverable(net: FakeNet) -> None:
    miners = [net.add_miner() for _ in range(3)]
    request = store(net, b"precious" * 1000)
    miners[0].tamper = True
    miners[1].down = True
    assert fetch(net, request.object_id) is None
    last = replies()[-1]
    assert last["type"] == "object.failed"
    assert last["operation"] == "fetch"
    assert last["reason"] == "unrecoverable"


def test_oversized_share_body_is_refused(net: FakeNet) -> None:
    miners = [net.add_miner() for _ in range(3)]
    request = store(net, b"small" * 100)
    for miner in miners[:2]:
        miner.body_override = b"\0" * (8 * 1024 * 1024)
    assert fetch(net, request.object_id) is None
    assert replies()[-1]["reason"] == "unrecoverable"


def test_unknown_object(net: FakeNet) -> None:
    three_miners(net)
    assert fetch(net, uuid4()) is None
    assert replies()[-1]["reason"] == "unknown_object"
