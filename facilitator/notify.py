"""Side effects toward validators, always after the transaction commits (never for rolled-back work)."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from pydantic import BaseModel

FORWARD_EVENT = "validator.forward"


def send_to_validator_on_commit(*, channel_name: str, message: BaseModel) -> None:
    payload = message.model_dump_json()

    def _send() -> None:
        layer = get_channel_layer()
        assert layer is not None
        async_to_sync(layer.send)(channel_name, {"type": FORWARD_EVENT, "payload": payload})

    transaction.on_commit(_send)
