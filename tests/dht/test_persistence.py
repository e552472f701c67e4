"""Records and the routing table live in Postgres and survive a restart; expired rows are swept;
stake comes from a real ChainClient (LocalChain) through the cached ChainStakeSource."""

import time

import pytest

from chain.interface import Role
from chain.local import LocalChain
from dht.models import KnownPeer, StoredRecord
from dht.persistence import PostgresPersistence
from dht.records import record_sign
from dht.stake import ChainStakeSource
from dht.swarm import node_build

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_restarted_node_recovers_its_records_and_peers(make_swarm):
    swarm = await make_swarm(4)
    holder = swarm.nodes[1]
    persistence = PostgresPersistence(holder=holder.hotkey.ss58)
    holder.store.listener = persistence
    records = []
    for node in swarm.nodes[2:]:
        record = record_sign(hotkey=node.hotkey, key="kv:p", value={"from": node.hotkey.ss58}, expires=time.time() + 60)
        assert await holder.accept_record(record, source="test") == "stored"
        records.append(record)
    await persistence.flush()
    await persistence.save_peers(holder)
    assert await StoredRecord.objects.filter(holder=holder.hotkey.ss58).acount() == 2
    assert await KnownPeer.objects.filter(holder=holder.hotkey.ss58).acount() == 3
    await holder.stop()

    reborn = node_build(hotkey=holder.hotkey, stake=swarm.stake, config=swarm.config)
    await reborn.start("127.0.0.1", 0)
    try:
        restored = PostgresPersistence(holder=holder.hotkey.ss58)
        assert await restored.restore(reborn) == 2
        assert sorted(reborn.store.records_of("kv:p"), key=lambda r: r.subkey) == sorted(
            records, key=lambda r: r.subkey
        )
        # It rejoins through the peers it knew, without any bootnode.
        assert await reborn.bootstrap([], known=await restored.known_peers()) >= 3
        got = await swarm.nodes[0].get("kv:p", quorum=1)
        assert set(got) >= {r.subkey for r in records if swarm.nodes[0].hotkey.ss58 != r.subkey}
    finally:
        await reborn.stop()


async def test_expired_rows_are_swept(make_swarm):
    swarm = await make_swarm(2)
    node = swarm.nodes[1]
    persistence = PostgresPersistence(holder=node.hotkey.ss58)
    node.store.listener = persistence
    short = record_sign(hotkey=swarm.nodes[0].hotkey, key="kv:s", value=1, expires=time.time() + 0.5)
    assert await node.accept_record(short, source="test") == "stored"
    await persistence.flush()
    assert await StoredRecord.objects.acount() == 1
    node.clock = lambda: time.time() + 10  # the node's clock is injectable: move it past expiry
    assert node.store.sweep(node.clock()) == 1
    await persistence.flush()
    assert await StoredRecord.objects.acount() == 0


async def test_chain_stake_source_reads_local_chain_and_refreshes_on_a_miss(make_hotkey):
    chain = LocalChain()
    staked, late = make_hotkey(), make_hotkey()
    await _register(chain, staked.ss58, stake=500)
    now = [0.0]
    source = ChainStakeSource(chain, refresh_s=60, miss_refresh_s=10, clock=lambda: now[0])
    info = await source.lookup(staked.ss58)
    assert (info.stake, info.role) == (500, "miner")
    await _register(chain, late.ss58, stake=7)
    assert await source.lookup(late.ss58) is None  # cached miss: no chain call per unknown owner
    now[0] = 11.0
    assert (await source.lookup(late.ss58)).stake == 7


async def _register(chain: LocalChain, hotkey: str, *, stake: int) -> None:
    from asgiref.sync import sync_to_async

    def work() -> None:
        chain.register(hotkey=hotkey, coldkey=hotkey, role=Role.MINER)
        chain.add_stake(hotkey=hotkey, amount=stake)

    await sync_to_async(work)()
