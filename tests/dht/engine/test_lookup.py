"""A key with more records than fit in one datagram (every miner's heartbeat lives under one key)
is read page by page."""

from dht.engine.server import REPLY_OVERHEAD_BYTES


async def test_large_keys_are_paged(make_swarm):
    swarm = await make_swarm(40, max_datagram_bytes=9_000)
    owners = swarm.nodes[:30]
    for node in owners:
        _, replicas = await node.put("kv:crowded", {"pad": "x" * 400, "who": node.hotkey.ss58}, ttl_s=60)
        assert replicas >= 1
    holder = next(n for n in swarm.nodes if len(n.store.records_of("kv:crowded")) == 30)
    first_page, more = holder.store.page("kv:crowded", after=None, budget_bytes=9_000 - REPLY_OVERHEAD_BYTES)
    assert more
    assert len(first_page) < 30
    reader = swarm.nodes[35]
    result = await reader.lookup_value("kv:crowded")
    assert set(result.records) == {n.hotkey.ss58 for n in owners}
    assert all(r.value["who"] == r.owner for r in result.records.values())
