import hashlib
import os
from typing import Any
from uuid import uuid4

import pytest

from protocol.messages.storage import ObjectFetchRequest, ObjectStoreRequest
from tests.validator.storage.conftest import FakeNet
from validator.models import FacilitatorOutbox, SharePlacement, StoredObject
from validator.storage.placement import object_place
from validator.storage.retrieval import object_retrieve


def store(net: FakeNet, data: bytes, *, sha256: str | None = None) -> ObjectStoreRequest:
    object_id = uuid4()
    path = f"/api/v1/validator/objects/{object_id}/staged/"
    net.staged[path] = data
    request = ObjectStoreRequest(
        object_id=object_id, size=len(data), sha256=sha256 or hashlib.sha256(data).hexdigest(), path=path
    )
    object_place(request)
    return request


def replies() -> list[dict[str, Any]]:
    return [row.payload for row in FacilitatorOutbox.objects.order_by("id")]


def fetch(net: FakeNet, object_id: Any) -> bytes | None:
    request_id = uuid4()
    path = f"/api/v1/validator/objects/{object_id}/retrievals/{request_id}/"
    object_retrieve(ObjectFetchRequest(object_id=object_id, request_id=request_id, path=path))
    return net.retrieved.get(path)


def three_miners(net: FakeNet) -> None:
    for _ in range(3):
        net.add_miner()


@pytest.mark.parametrize("size", [0, 1, 3 * 1024 * 1024 + 7])
def test_round_trip(net: FakeNet, size: int) -> None:
    three_miners(net)
    data = os.urandom(size)
    request = store(net, data)
    obj = StoredObject.objects.get(pk=request.object_id)
    assert obj.status == StoredObject.Status.STORED
    live = list(obj.placements.filter(status=SharePlacement.Status.LIVE))
    assert sorted(p.index for p in live) == [0, 1, 2]
    assert len({p.coldkey for p in live}) == 3
    stored = replies()[-1]
    assert stored["type"] == "object.stored"
    assert stored["health"]["shares"] == 3
    assert stored["health"]["needed"] == 2
    assert stored["health"]["placed"] == 3
    held = [s for m in net.miners.values() for s in m.shares.values()]
    assert len(held) == 3
    assert len(set(held)) == 3
    assert fetch(net, request.object_id) == data
    assert replies()[-1]["type"] == "object.fetched"


def test_digest_mismatch_stores_nothing(net: FakeNet) -> None:
    three_miners(net)
    request = store(net, b"hello", sha256="0" * 64)
    assert replies()[-1]["reason"] == "digest_mismatch"
    assert not SharePlacement.objects.exists()
    assert not StoredObject.objects.filter(pk=request.object_id, status=StoredObject.Status.STORED).exists()


def test_staged_body_longer_than_announced_is_a_digest_mismatch(net: FakeNet) -> None:
    three_miners(net)
    object_id = uuid4()
    net.staged["/s/"] = b"x" * 100
    object_place(ObjectStoreRequest(object_id=object_id, size=10, sha256="0" * 64, path="/s/"))
    assert replies()[-1]["reason"] == "digest_mismatch"


def test_unreadable_staging(net: FakeNet) -> None:
    three_miners(net)
    object_place(ObjectStoreRequest(object_id=uuid4(), size=1, sha256="0" * 64, path="/missing/"))
    assert replies()[-1]["reason"] == "staging_unreadable"


def test_too_few_distinct_coldkeys_leaves_nothing(net: FakeNet) -> None:
    net.add_miner(coldkey="5ColdA")
    net.add_miner(coldkey="5ColdA")
    net.add_miner(coldkey="5ColdB")
    request = store(net, b"data" * 100)
    last = replies()[-1]
    assert last["type"] == "object.failed"
    assert last["reason"] == "insufficient_space"
    assert all(not m.shares for m in net.miners.values())  # the two put were deleted again
    assert not SharePlacement.objects.exclude(status=SharePlacement.Status.DELETED).exists()
    assert StoredObject.objects.get(pk=request.object_id).status == StoredObject.Status.FAILED


def test_full_miners_are_skipped(net: FakeNet) -> None:
    full = net.add_miner(available=10, declared=1 << 40)  # claims the most, tried first; has 10 bytes left
    three_miners(net)
    store(net, b"z" * 4096)
    assert replies()[-1]["type"] == "object.stored"
    assert not full.shares
    assert not SharePlacement.objects.filter(miner=full.miner).exists()


def test_all_full_is_insufficient_space(net: FakeNet) -> None:
    for _ in range(3):
        net.add_miner(available=0)
    store(net, b"z" * 4096)
    assert replies()[-1]["reason"] == "insufficient_space"
    assert not SharePlacement.objects.exists()


def test_refusing_miner_then_next_candidate(net: FakeNet) -> None:
    refusing = net.add_miner(put_status=507, declared=1 << 40)  # claims the most space: tried first
    down = net.add_miner(down=True, declared=1 << 39)
    three_miners(net)
    request = store(net, b"q" * 5000)
    assert replies()[-1]["type"] == "object.stored"
    live = SharePlacement.objects.filter(object_id=request.object_id, status=SharePlacement.Status.LIVE)
    assert live.count() == 3
    assert not live.filter(miner__in=[refusing.miner, down.miner]).exists()
    assert not refusing.shares


def test_resent_store_is_idempotent(net: FakeNet) -> None:
    three_miners(net)
    request = store(net, b"once")
    puts = sum(1 for r in net.requests if r.startswith("PUT"))
    object_place(request)
    assert sum(1 for r in net.requests if r.startswith("PUT")) == puts  # nothing placed again
    assert [r["type"] for r in replies()] == ["object.stored", "object.stored"]
    assert SharePlacement.objects.count() == 3


def test_retried_failed_store_starts_over(net: FakeNet) -> None:
    net.add_miner()
    request = store(net, b"later")
    assert replies()[-1]["reason"] == "insufficient_space"
    net.add_miner()
    net.add_miner()
    object_place(request)
    assert replies()[-1]["type"] == "object.stored"
    assert SharePlacement.objects.filter(status=SharePlacement.Status.LIVE).count() == 3


def test_a_crashed_placement_is_withdrawn_before_a_resend_places_again(net: FakeNet) -> None:
    miners = [net.add_miner() for _ in range(3)]
    request = store(net, b"crash" * 10)
    StoredObject.objects.filter(pk=request.object_id).update(status=StoredObject.Status.PLACING)  # died mid-way
    old = set(SharePlacement.objects.values_list("id", flat=True))
    object_place(request)
    assert replies()[-1]["type"] == "object.stored"
    live = SharePlacement.objects.filter(status=SharePlacement.Status.LIVE)
    assert live.count() == 3
    assert not old & set(live.values_list("id", flat=True))
    assert sum(len(m.shares) for m in miners) == 3  # the old shares were deleted on the miners


def test_a_store_for_a_deleted_object_is_refused(net: FakeNet) -> None:
    three_miners(net)
    request = store(net, b"gone")
    StoredObject.objects.filter(pk=request.object_id).update(status=StoredObject.Status.DELETED)
    object_place(request)
    assert replies()[-1]["type"] == "object.failed"
    assert SharePlacement.objects.filter(status=SharePlacement.Status.LIVE).count() == 3  # untouched


def test_another_miner_of_a_failing_miners_coldkey_may_take_its_share(net: FakeNet) -> None:
    refusing = net.add_miner(coldkey="5ColdA", put_status=507, declared=1 << 40)
    spare = net.add_miner(coldkey="5ColdA", declared=1 << 20)
    net.add_miner(coldkey="5ColdB")
    net.add_miner(coldkey="5ColdC")
    store(net, b"w" * 3000)
    assert replies()[-1]["type"] == "object.stored"
    assert not refusing.shares
    assert len(spare.shares) == 1


def test_an_object_over_the_bound_is_not_fetched(net: FakeNet, settings: Any) -> None:
    three_miners(net)
    settings.STORAGE_MAX_OBJECT_BYTES = 1000
    store(net, b"b" * 1001)
    assert replies()[-1]["reason"] == "internal"
    assert not any("staged" in r for r in net.requests)
