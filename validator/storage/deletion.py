"""Deleting an object (object.delete): every share deleted on its miner, best effort. A share
whose miner did not confirm stays as it was and the object `deleting`: the cleanup sweep retries.
object.deleted goes upstream either way (the object is gone for the user; idempotent)."""

import logging

from protocol.messages.storage import ObjectDeleteRequest
from validator.models import SharePlacement
from validator.selectors.storage import placements_not_deleted
from validator.services.storage_objects import object_deleted_record, object_deleting_mark, placement_mark
from validator.storage.transport import TransportFailure, share_delete

logger = logging.getLogger(__name__)


def object_delete(request: ObjectDeleteRequest) -> None:
    if object_deleting_mark(object_id=request.object_id):
        for placement in placements_not_deleted(object_id=request.object_id):
            try:
                share_delete(miner=placement.miner, share_id=placement.id)
            except TransportFailure as exc:
                logger.info("storage: share %s not deleted on %s yet: %s", placement.id, placement.miner.hotkey, exc)
                continue
            placement_mark(placement_id=placement.id, status=SharePlacement.Status.DELETED)
    object_deleted_record(object_id=request.object_id)
