"""The ASGI app the TLS tests serve with a real daphne process (tests/protocol/test_dialer_tls.py):
one `SignedConsumer` that admits every peer and echoes what it is sent. Its certificate, key and
hotkey come from the environment, as a node's do."""

import os

import django
from django.apps import apps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
if not apps.ready:  # in daphne's process; under pytest Django is set up (and its logging configured) already
    django.setup()

from typing import Any

from channels.routing import URLRouter
from django.urls import path
from pydantic import BaseModel, TypeAdapter

from protocol.consumer import SignedConsumer
from protocol.messages.facilitator import ValidatorToFacilitator

PATH = "/v1/echo/"


class EchoConsumer(SignedConsumer[Any]):
    incoming = TypeAdapter(ValidatorToFacilitator)
    path = PATH

    async def authorize(self, peer_hotkey: str) -> str | None:
        return None

    async def handle(self, message: BaseModel) -> None:
        await self.send_message(message)


application = URLRouter([path(PATH.strip("/") + "/", EchoConsumer.as_asgi())])
