"""Upkeep: our own records are re-signed before they expire; expired records are swept; stale and
empty far buckets are refreshed."""

import time

from dht.ids import bucket_index
from dht.maintenance import Owned, refresh_buckets, republish_owned, sweep
from dht.records import record_sign


async def test_owned_records_are_republished_before_expiry(make_swarm):
    swarm = await make_swarm(5)
    node = swarm.nodes[1]
    owned = {"kv:mine": Owned(key="kv:mine", value={"v": 1}, ttl_s=9)}
    assert await republish_owned(node, owned) == 1
    first = (await swarm.nodes[3].get("kv:mine"))[node.hotkey.ss58]
    assert await republish_owned(node, owned) == 0  # two thirds of the TTL left: nothing to do
    base = time.time()
    node.clock = lambda: base + 7  # a third of the TTL left
    assert await republish_owned(node, owned) == 1
    second = (await swarm.nodes[3].get("kv:mine"))[node.hotkey.ss58]
    assert second.expires > first.expires
    assert second.supersedes(first)


async def test_sweep_drops_expired_records(make_swarm):
    swarm = await make_swarm(2)
    node = swarm.nodes[1]
    record = record_sign(hotkey=swarm.nodes[0].hotkey, key="kv:e", value=1, expires=time.time() + 5)
    assert await node.accept_record(record, source="test") == "stored"
    assert await sweep(node, None) == 0
    node.clock = lambda: time.time() + 6
    assert await sweep(node, None) == 1
    assert node.store.current("kv:e", record.subkey) is None


async def test_refresh_reseeds_an_emptied_far_bucket(make_swarm):
    swarm = await make_swarm(30, refresh_interval_s=3600.0)
    node = swarm.nodes[5]
    far = [p for p in node.routing.peers() if bucket_index(node.id, p.id) == 255]
    assert far
    node.routing._replacements.clear()
    for peer in far:  # as if every contact in half of the id space had gone away
        node.routing.remove(peer.hotkey)
    assert 255 in node.routing.far_buckets_to_fill()
    assert await refresh_buckets(node) >= 1
    assert any(bucket_index(node.id, p.id) == 255 for p in node.routing.peers())
