"""The DHT process as `manage.py dht` runs it: a bootnode and a miner on LocalChain, with Postgres
persistence; the miner heartbeats ONLINE, and on stop announces OFFLINE and saves its state."""

import asyncio
import socket

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.core.management.base import CommandError

from chain.interface import Role
from chain.local import LocalChain
from dht.models import KnownPeer, NodeHeartbeat, StoredRecord
from dht.policy.values import NodeState
from dht.runner import RunOptions, dht_run

pytestmark = pytest.mark.django_db(transaction=True)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _register(hotkey: str, role: Role, stake: int, address: str | None = None) -> None:
    chain = LocalChain()
    chain.register(hotkey=hotkey, coldkey=hotkey, role=role)
    chain.add_stake(hotkey=hotkey, amount=stake)
    if address:
        chain.serve(hotkey=hotkey, address=address)


async def _wait_for(predicate, attempts: int = 200) -> None:
    for _ in range(attempts):
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition never held")


async def test_bootnode_and_miner_processes(make_hotkey, settings):
    boot_key, miner_key = make_hotkey(), make_hotkey()
    await sync_to_async(_register)(miner_key.ss58, Role.MINER, 10)
    settings.DHT_HEARTBEAT_INTERVAL_S = 0.2
    settings.DHT_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    boot_port = _free_udp_port()
    settings.DHT_BOOTNODES = [f"127.0.0.1:{boot_port}"]
    stop_boot, stop_miner = asyncio.Event(), asyncio.Event()
    boot = asyncio.create_task(
        dht_run(hotkey=boot_key, options=RunOptions(host="127.0.0.1", port=boot_port, bootnode=True), stop=stop_boot)
    )
    await asyncio.sleep(0.2)
    miner = asyncio.create_task(
        dht_run(
            hotkey=miner_key,
            options=RunOptions(host="127.0.0.1", port=0, role=Role.MINER, addresses=["127.0.0.1:8100"]),
            stop=stop_miner,
        )
    )

    async def online() -> bool:
        row = await NodeHeartbeat.objects.filter(holder=miner_key.ss58, hotkey=miner_key.ss58).afirst()
        return row is not None and row.state == NodeState.ONLINE

    await _wait_for(online)
    stop_miner.set()
    await miner

    # The bootnode holds the miner's last word: OFFLINE (persisted to its Postgres rows as well).
    async def offline_on_bootnode() -> bool:
        row = await StoredRecord.objects.filter(holder=boot_key.ss58, key="heartbeat:miner").afirst()
        return row is not None and row.value["state"] == NodeState.OFFLINE

    await _wait_for(offline_on_bootnode)
    assert await KnownPeer.objects.filter(holder=miner_key.ss58).acount() == 1
    stop_boot.set()
    await boot


async def test_a_node_that_found_no_bootnode_joins_once_one_answers(make_hotkey, settings):
    boot_key, miner_key = make_hotkey(), make_hotkey()
    await sync_to_async(_register)(miner_key.ss58, Role.MINER, 10)
    settings.DHT_HEARTBEAT_INTERVAL_S = 0.2
    settings.DHT_RPC_TIMEOUT_S = 0.2
    settings.DHT_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    boot_port = _free_udp_port()
    settings.DHT_BOOTNODES = [f"127.0.0.1:{boot_port}"]
    stop_boot, stop_miner = asyncio.Event(), asyncio.Event()
    # The miner starts first: its join finds nobody and it is alone.
    miner = asyncio.create_task(
        dht_run(hotkey=miner_key, options=RunOptions(host="127.0.0.1", port=0, role=Role.MINER), stop=stop_miner)
    )
    await asyncio.sleep(1.0)
    boot = asyncio.create_task(
        dht_run(hotkey=boot_key, options=RunOptions(host="127.0.0.1", port=boot_port, bootnode=True), stop=stop_boot)
    )

    async def heartbeat_on_bootnode() -> bool:
        return await StoredRecord.objects.filter(holder=boot_key.ss58, key="heartbeat:miner").aexists()

    await _wait_for(heartbeat_on_bootnode)  # without the rejoin the miner stays alone forever
    stop_miner.set()
    stop_boot.set()
    await miner
    await boot


def test_command_refuses_a_node_without_a_role():
    with pytest.raises(CommandError, match="--role"):
        call_command("dht")
