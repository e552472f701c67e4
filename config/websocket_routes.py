"""Websocket routes per role; versioned paths so a protocol change can live beside the old one."""

from typing import Any

from django.conf import settings
from django.urls import path

from facilitator.consumers import ValidatorChannelConsumer
from miner.consumers import ValidatorInterfaceConsumer

_role = settings.MESHWORK_ROLE
websocket_urlpatterns: list[Any] = []
if _role in ("facilitator", "all"):
    websocket_urlpatterns.append(path("v1/facilitator/", ValidatorChannelConsumer.as_asgi()))
if _role in ("miner", "all"):
    websocket_urlpatterns.append(path("v1/miner/", ValidatorInterfaceConsumer.as_asgi()))
