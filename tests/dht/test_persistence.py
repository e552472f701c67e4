"""Records and the routing table live in Postgres and survive a restart; expired rows are swept."""

import time

import pytest

from dht.engine.records import record_sign
from dht.models import KnownPeer, StoredRecord
from dht.persistence import PostgresPersistence
from tests.dht.swarm import ShiftedClock, node_build

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_restarted_node_recovers_its_records_and_peers(make_swarm):
    swarm = await make_swarm(1)
    holder_key = swarm.add_identity()
    persistence = PostgresPersistence(holder=holder_key.ss58)
    holder = await swarm.join(hotkey=holder_key, hook=persistence)
    for _ in range(2):
        await swarm.join()
    records = []
    for node in swarm.nodes[2:]:
        record = record_sign(hotkey=node.hotkey, key="kv:p", value={"from": node.hotkey.ss58}, expires=time.time() + 60)
        assert await holder.accept_record(record, source="test") == "stored"
        records.append(record)
    await holder.persist()
    assert await StoredRecord.objects.filter(holder=holder.hotkey.ss58).acount() == 2
    assert await KnownPeer.objects.filter(holder=holder.hotkey.ss58).acount() == 3
    await holder.stop()

    restored = PostgresPersistence(holder=holder.hotkey.ss58)
    reborn = node_build(hotkey=holder.hotkey, stake=swarm.stake, config=swarm.config, hook=restored)
    await reborn.start("127.0.0.1", 0)
    try:
        assert await reborn.restore(await restored.stored_records(now=reborn.clock())) == 2
        assert sorted(reborn.store.records_of("kv:p"), key=lambda r: r.subkey) == sorted(
            records, key=lambda r: r.subkey
        )
        # It rejoins through the peers it knew, without any bootnode.
        assert await reborn.bootstrap([], known=await restored.known_peers()) >= 3
        got = await swarm.nodes[0].get("kv:p", quorum=1)
        assert set(got) >= {r.subkey for r in records if swarm.nodes[0].hotkey.ss58 != r.subkey}
    finally:
        await reborn.stop()


async def test_restored_records_are_revalidated_and_not_written_back(make_swarm):
    swarm = await make_swarm(1)
    holder_key = swarm.add_identity()
    persistence = PostgresPersistence(holder=holder_key.ss58)
    holder = await swarm.join(hotkey=holder_key, hook=persistence)
    owners = [swarm.add_identity(), swarm.add_identity()]
    for owner in owners:
        record = record_sign(hotkey=owner, key="kv:r", value=1, expires=time.time() + 60)
        assert await holder.accept_record(record, source="test") == "stored"
    await holder.persist()
    await holder.stop()
    del swarm.stake.table[owners[1].ss58]  # unregistered while the node was down

    restored = PostgresPersistence(holder=holder_key.ss58)
    reborn = node_build(hotkey=holder_key, stake=swarm.stake, config=swarm.config, hook=restored)
    assert await reborn.restore(await restored.stored_records(now=time.time())) == 1
    assert [r.owner for r in reborn.store.records_of("kv:r")] == [owners[0].ss58]
    assert restored._upserts == {}  # reloading queues nothing to write back


async def test_expired_rows_are_swept(make_swarm):
    swarm = await make_swarm(1)
    clock = ShiftedClock()
    node = await swarm.join(clock=clock, hook=PostgresPersistence(holder="sweeper"))
    short = record_sign(hotkey=swarm.nodes[0].hotkey, key="kv:s", value=1, expires=time.time() + 0.5)
    assert await node.accept_record(short, source="test") == "stored"
    await node.persist()
    assert await StoredRecord.objects.acount() == 1
    clock.offset = 10  # the node's clock is injectable: move it past expiry
    assert await node.sweep() == 1
    assert await StoredRecord.objects.acount() == 0
