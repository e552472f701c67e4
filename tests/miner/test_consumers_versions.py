"""The miner refuses a validator below the subnet's minimum version, read from the chain (the
local subnet's weights version key), before it looks at the validator's stake."""

from typing import Any

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path

from chain.models import LocalSubnet
from chain.router import chain_alias
from executor.services.hosts import executor_hosts_parse
from miner.consumers import ValidatorInterfaceConsumer
from miner.services.executors import executor_hosts_sync
from protocol.consumer import CloseCode
from protocol.handshake import handshake_build
from protocol.keys import Hotkey
from protocol.version import NODE_VERSION, version_as_int

PATH = "/v1/miner/"
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_async_db", "server_nonces", "min_validator_stake"),
]
application = URLRouter([path("v1/miner/", ValidatorInterfaceConsumer.as_asgi())])


@pytest.fixture(autouse=True)
def subnet_requires_current(local_chain: Any, settings: Any, node_key: Hotkey, executor_classes: dict) -> None:
    """The subnet owner set the minimum to this release; the miner reads it from the chain."""
    settings.MESHWORK_MIN_VERSION_PROVIDER = "chain.selectors.chain_min_version"
    local_chain.current_block()
    LocalSubnet.objects.using(chain_alias()).update(weights_version=version_as_int(NODE_VERSION))
    executor_hosts_sync(executor_hosts_parse("local=local;cpu.small=1"))


async def _hello(validator: Hotkey, miner: Hotkey, version: str | None) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(application, PATH)
    assert (await comm.connect())[0]
    hello = handshake_build(hotkey=validator, peer_hotkey=miner.ss58, path=PATH, node_version=version)
    await comm.send_to(text_data=hello.model_dump_json())
    return comm


async def test_an_old_validator_is_refused_as_too_old(admitted_validator_key, node_key):
    comm = await _hello(admitted_validator_key, node_key, "0.1.0")
    assert await comm.receive_json_from(timeout=3) == {
        "type": "error",
        "code": "version_too_old",
        "detail": f"peer runs 0.1.0; this subnet requires >= {NODE_VERSION}",
    }
    event = await comm.receive_output(timeout=3)
    assert (event["type"], event["code"]) == ("websocket.close", CloseCode.VERSION_TOO_OLD)


async def test_a_current_validator_gets_the_handshake_and_manifest(admitted_validator_key, node_key):
    comm = await _hello(admitted_validator_key, node_key, NODE_VERSION)
    reply = await comm.receive_json_from(timeout=3)
    assert (reply["type"], reply["node_version"]) == ("handshake", NODE_VERSION)
    assert (await comm.receive_json_from(timeout=3))["type"] == "miner.manifest"
    await comm.disconnect()
