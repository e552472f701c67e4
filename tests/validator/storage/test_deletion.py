from uuid import uuid4

from protocol.messages.storage import ObjectDeleteRequest
from tests.validator.storage.conftest import FakeNet
from tests.validator.storage.test_placement import replies, store
from validator.models import SharePlacement, StoredObject
from validator.storage.deletion import object_delete


def test_delete_removes_every_share(net: FakeNet) -> None:
    miners = [net.add_miner() for _ in range(3)]
    request = store(net, b"bye" * 100)
    object_delete(ObjectDeleteRequest(object_id=request.object_id))
    assert all(not m.shares for m in miners)
    assert StoredObject.objects.get(pk=request.object_id).status == StoredObject.Status.DELETED
    assert not SharePlacement.objects.exclude(status=SharePlacement.Status.DELETED).exists()
    assert replies()[-1] == {"type": "object.deleted", "object_id": str(request.object_id)}


def test_miner_down_keeps_its_placement_for_the_sweep(net: FakeNet) -> None:
    miners = [net.add_miner() for _ in range(3)]
    request = store(net, b"bye" * 100)
    miners[0].down = True
    object_delete(ObjectDeleteRequest(object_id=request.object_id))
    assert StoredObject.objects.get(pk=request.object_id).status == StoredObject.Status.DELETING
    left = SharePlacement.objects.exclude(status=SharePlacement.Status.DELETED)
    assert [p.miner_id for p in left] == [miners[0].miner.pk]
    assert len(miners[0].shares) == 1
    assert replies()[-1]["type"] == "object.deleted"  # gone for the user; the rest is the sweep's


def test_unknown_object_is_deleted_anyway(net: FakeNet) -> None:
    object_id = uuid4()
    object_delete(ObjectDeleteRequest(object_id=object_id))
    assert replies() == [{"type": "object.deleted", "object_id": str(object_id)}]
