"""The node's storage wiring: a storage request runs in a worker thread and its reply comes back
through the outbox over the live link."""

import asyncio
import uuid
from typing import Any

import pytest
from pydantic import TypeAdapter

from protocol.messages.facilitator import ValidatorToFacilitator
from protocol.messages.storage import ObjectDeleted, ObjectDeleteRequest
from tests.validator.test_node import Running, running  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_async_db")]
_from_validator: TypeAdapter[Any] = TypeAdapter(ValidatorToFacilitator)


async def test_a_delete_request_is_answered_through_the_outbox(running: Running) -> None:  # noqa: F811
    link = await running.facilitator.link()
    object_id = uuid.uuid4()
    await link.send(ObjectDeleteRequest(object_id=object_id))
    reply = _from_validator.validate_json(await asyncio.wait_for(link.ws.recv(), 10))
    assert reply == ObjectDeleted(object_id=object_id)
    assert await link.nothing()
