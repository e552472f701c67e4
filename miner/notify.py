"""Side effects toward the validators connected to this miner, always after the transaction commits."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from protocol.messages.manifest import ManifestMessage

# Every authenticated validator connection joins this group: manifests go to all, and a
# preemption (miner/services/share.py) to whichever connection holds the job.
MANIFEST_GROUP = "miner-manifest"
MANIFEST_EVENT = "miner.manifest"
PREEMPT_EVENT = "miner.preempt"


def manifest_push_on_commit(manifest: ManifestMessage) -> None:
    payload = manifest.model_dump_json()

    def _send() -> None:
        layer = get_channel_layer()
        assert layer is not None
        async_to_sync(layer.group_send)(MANIFEST_GROUP, {"type": MANIFEST_EVENT, "payload": payload})

    transaction.on_commit(_send)
