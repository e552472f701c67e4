"""The ASGI app the TLS tests serve with a real daphne process (tests/protocol/test_dialer_tls.py):
one `SignedConsumer` that admits every peer and echoes what it is sent. Its certificate, key and
hotkey come from the environment, as a node's do."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
django.setup()

from typing import Any  # noqa: E402

from channels.routing import URLRouter  # noqa: E402
from django.urls import path  # noqa: E402
from pydantic import BaseModel, TypeAdapter  # noqa: E402

from protocol.consumer import SignedConsumer  # noqa: E402
from protocol.messages.facilitator import ValidatorToFacilitator  # noqa: E402

PATH = "/v1/echo/"


class EchoConsumer(SignedConsumer[Any]):
    incoming = TypeAdapter(ValidatorToFacilitator)
    path = PATH

    async def authorize(self, peer_hotkey: str) -> str | None:
        return None

    async def handle(self, message: BaseModel) -> None:
        await self.send_message(message)


application = URLRouter([path(PATH.strip("/") + "/", EchoConsumer.as_asgi())])
