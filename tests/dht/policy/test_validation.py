"""Records that must be refused over a real STORE RPC: forged, signed by others, oversized,
expired, over-capped, over-rate and owned by unstaked or unregistered hotkeys."""

import time

import pytest

from dht.engine.interfaces import StakeInfo
from dht.engine.records import record_sign
from dht.engine.rpc import RpcError
from protocol.keys import hotkey_create


@pytest.fixture
async def pair(make_swarm):
    swarm = await make_swarm(3, min_owner_stake=10, max_value_bytes=2048, owner_write_burst=3, owner_writes_per_s=0.001)
    return swarm, swarm.nodes[1], swarm.nodes[2]


async def store(sender, target, records):
    reply = await sender.call(target.addr, "store", {"records": [r.wire() for r in records]}, to=target.hotkey.ss58)
    return reply.results


async def test_a_valid_record_is_stored(pair):
    _swarm, sender, target = pair
    record = record_sign(hotkey=sender.hotkey, key="kv:x", value={"a": 1}, expires=time.time() + 60)
    assert await store(sender, target, [record]) == ["stored"]
    assert await store(sender, target, [record]) == ["duplicate"]
    assert target.store.current("kv:x", sender.hotkey.ss58) == record


async def test_forged_and_foreign_records_are_rejected(pair):
    swarm, sender, target = pair
    victim = swarm.nodes[0].hotkey
    genuine = record_sign(hotkey=victim, key="kv:x", value={"a": 1}, expires=time.time() + 60)
    tampered = genuine.model_copy(update={"value": {"a": 2}})
    impersonated = record_sign(hotkey=sender.hotkey, key="kv:x", value=1, expires=time.time() + 60)
    impersonated = impersonated.model_copy(update={"owner": victim.ss58, "subkey": victim.ss58})
    someone_elses_slot = record_sign(
        hotkey=sender.hotkey, key="kv:x", value=1, expires=time.time() + 60, subkey=victim.ss58
    )
    results = await store(sender, target, [tampered, impersonated, someone_elses_slot])
    assert results == [
        "rejected: bad signature",
        "rejected: bad signature",
        "rejected: subkey is not the owner's hotkey",
    ]
    assert target.store.current("kv:x", victim.ss58) is None
    assert target.drops.counts["record rejected: bad signature"] == 2


async def test_oversized_expired_and_pinned_records_are_rejected(pair):
    _swarm, sender, target = pair
    now = time.time()
    big = record_sign(hotkey=sender.hotkey, key="kv:big", value="x" * 3000, expires=now + 60)
    expired = record_sign(hotkey=sender.hotkey, key="kv:old", value=1, expires=now - 1)
    pinned = record_sign(hotkey=sender.hotkey, key="kv:pin", value=1, expires=now + 10 * 86_400)
    unknown = record_sign(hotkey=sender.hotkey, key="bogus:x", value=1, expires=now + 60)
    results = await store(sender, target, [big, expired, pinned, unknown])
    assert results[0] == "rejected: value exceeds 2048 bytes"
    assert results[1] == "rejected: expired"
    assert results[2].startswith("rejected: expiry")
    assert "cap" in results[2]
    assert results[3] == "rejected: unknown namespace 'bogus'"
    assert len(target.store) == 0


async def test_stake_is_checked_on_the_owner_not_the_delivering_peer(pair):
    swarm, sender, target = pair
    poor = swarm.add_identity(stake=5)
    stranger, _ = hotkey_create("ed25519")
    now = time.time()
    records = [
        record_sign(hotkey=poor, key="kv:p", value=1, expires=now + 60),
        record_sign(hotkey=stranger, key="kv:s", value=1, expires=now + 60),
    ]
    # `sender` is staked; the records' owners are not: they are refused all the same.
    assert await store(sender, target, records) == [
        "rejected: owner stake 5 below 10",
        "rejected: owner not registered on chain",
    ]
    swarm.stake.table[poor.ss58] = StakeInfo(stake=50, role="miner")
    assert await store(sender, target, records[:1]) == ["stored"]


async def test_role_bound_namespaces_check_the_owners_chain_role(pair):
    _swarm, sender, target = pair  # every swarm identity is a miner
    now = time.time()
    fake_validator_beat = record_sign(hotkey=sender.hotkey, key="heartbeat:validator", value={}, expires=now + 60)
    fake_commit = record_sign(
        hotkey=sender.hotkey, key="scores-commit:1", value={"epoch": 1, "digest": "0" * 64}, expires=now + 60
    )
    results = await store(sender, target, [fake_validator_beat, fake_commit])
    assert results == [
        "rejected: owner's chain role is miner, not validator",
        "rejected: owner's chain role is miner, not validator",
    ]
    bad_schema = record_sign(hotkey=sender.hotkey, key="heartbeat:miner", value={"role": "miner"}, expires=now + 60)
    [result] = await store(sender, target, [bad_schema])
    assert result.startswith("rejected: schema:")


async def test_per_owner_write_rate_limit(pair):
    _swarm, sender, target = pair
    now = time.time()
    versions = [record_sign(hotkey=sender.hotkey, key="kv:r", value=i, expires=now + 60 + i) for i in range(5)]
    results = [(await store(sender, target, [v]))[0] for v in versions]
    assert results == ["stored"] * 3 + ["rejected: owner over write rate"] * 2
    assert target.store.current("kv:r", sender.hotkey.ss58) == versions[2]
    # Re-sending what is already held costs nothing, and an older version is simply stale.
    assert await store(sender, target, [versions[2], versions[0]]) == ["duplicate", "stale"]


async def test_latest_expiry_wins(pair):
    _swarm, sender, target = pair
    now = time.time()
    newer = record_sign(hotkey=sender.hotkey, key="kv:l", value="new", expires=now + 120)
    older = record_sign(hotkey=sender.hotkey, key="kv:l", value="old", expires=now + 60)
    assert await store(sender, target, [newer, older]) == ["stored", "stale"]
    assert target.store.current("kv:l", sender.hotkey.ss58).value == "new"


async def test_oversized_store_batches_are_refused(pair):
    _swarm, sender, target = pair
    now = time.time()
    batch = [record_sign(hotkey=sender.hotkey, key=f"kv:b{i}", value=i, expires=now + 60) for i in range(17)]
    with pytest.raises(RpcError, match="over budget"):
        await store(sender, target, batch)
    assert len(target.store) == 0
    assert target.drops.counts["store batch over the sender's budget"] == 1
