"""The routing table: least-recently-seen eviction only after a failed ping, replacement cache,
bucket placement, far-bucket seeding and XOR ordering."""

import asyncio
import random

from dht.engine.ids import bucket_index, node_id
from dht.engine.node import DhtNode
from dht.engine.routing import RoutingTable
from tests.dht.swarm import Swarm, config_with, node_build


def same_bucket_hotkeys(own: int, count: int, index: int = 255) -> list[str]:
    out: list[str] = []
    i = 0
    while len(out) < count:
        name = f"peer-{i}"
        if bucket_index(own, node_id(name)) == index:
            out.append(name)
        i += 1
    return out


def test_full_bucket_keeps_old_peers_until_they_fail():
    own = node_id("me")
    table = RoutingTable(own_id=own, k=2, failures_before_evict=2)
    a, b, c = same_bucket_hotkeys(own, 3)
    assert table.seen(a, "127.0.0.1", 1) is None
    assert table.seen(b, "127.0.0.1", 2) is None
    lrs = table.seen(c, "127.0.0.1", 3)  # full: the caller must ping the least-recently-seen
    assert lrs is not None
    assert lrs.hotkey == a
    assert table.get(c) is None
    assert table.failed(a) is False  # one failure is forgiven
    assert table.failed(a) is True  # the second evicts it and promotes the waiting newcomer
    assert {p.hotkey for p in table.peers()} == {b, c}


def test_a_peer_seen_again_moves_to_the_tail_and_resets_failures():
    own = node_id("me")
    table = RoutingTable(own_id=own, k=2)
    a, b, c = same_bucket_hotkeys(own, 3)
    table.seen(a, "127.0.0.1", 1)
    table.seen(b, "127.0.0.1", 2)
    table.failed(a)
    table.seen(a, "127.0.0.1", 11)  # a answered again (from a new port)
    lrs = table.seen(c, "127.0.0.1", 3)
    assert lrs is not None
    assert lrs.hotkey == b
    peer = table.get(a)
    assert peer is not None
    assert (peer.port, peer.failures) == (11, 0)


def test_closest_is_xor_order_and_random_ids_land_in_their_bucket():
    own = node_id("me")
    table = RoutingTable(own_id=own, k=20)
    names = [f"n{i}" for i in range(300)]
    for i, name in enumerate(names):
        table.seen(name, "127.0.0.1", 1000 + i)
    target = random.Random(1).getrandbits(256)
    expected = sorted((p for p in table.peers()), key=lambda p: p.id ^ target)[:20]
    assert table.closest(target, 20) == expected
    for index in (255, 200, 3, 0):
        assert bucket_index(own, table.random_id_in_bucket(index)) == index
    assert all(len(table._buckets.get(i, ())) >= 1 for i in range(250, 256))
    assert table.far_buckets_to_fill() == []


async def test_a_dead_least_recently_seen_peer_is_evicted_after_a_ping():
    swarm = Swarm(config=config_with(k=1, rpc_timeout_s=0.3))
    try:
        observer = node_build(hotkey=swarm.add_identity(), stake=swarm.stake, config=swarm.config)
        await observer.start()
        old: list[DhtNode] = []
        while len(old) < 3:
            hotkey = swarm.add_identity()
            if bucket_index(observer.id, node_id(hotkey.ss58)) == 255:
                node = node_build(hotkey=hotkey, stake=swarm.stake, config=swarm.config)
                await node.start()
                old.append(node)
        swarm.nodes = [observer, *old]
        first, second, third = old
        assert await first.ping(observer.addr) == observer.hotkey.ss58
        assert observer.routing.get(first.hotkey.ss58) is not None
        # `first` is alive: a newcomer waits in the replacement cache.
        await second.ping(observer.addr)
        await _settle(observer)
        assert observer.routing.get(first.hotkey.ss58) is not None
        assert observer.routing.get(second.hotkey.ss58) is None
        # `first` dies: the next newcomer's arrival pings it, evicts it and promotes a newcomer.
        await first.stop()
        swarm.nodes.remove(first)
        await third.ping(observer.addr)
        await _settle(observer)
        assert observer.routing.get(first.hotkey.ss58) is None
        assert observer.routing.get(third.hotkey.ss58) is not None
    finally:
        await swarm.close()


async def _settle(node) -> None:
    for _ in range(40):
        if not node.contacts.evicting:
            return
        await asyncio.sleep(0.05)
