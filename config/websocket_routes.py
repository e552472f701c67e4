"""Websocket routes per role; versioned paths so a protocol change can live beside the old one."""

from typing import Any

from django.conf import settings
from django.urls import path

from config.roles import NodeRole, role_serves
from facilitator.consumers import ValidatorChannelConsumer
from miner.consumers import ValidatorInterfaceConsumer

websocket_urlpatterns: list[Any] = []
if role_serves(settings.MESHWORK_ROLE, NodeRole.FACILITATOR):
    websocket_urlpatterns.append(path("v1/facilitator/", ValidatorChannelConsumer.as_asgi()))
if role_serves(settings.MESHWORK_ROLE, NodeRole.MINER):
    websocket_urlpatterns.append(path("v1/miner/", ValidatorInterfaceConsumer.as_asgi()))
