"""The cached stake table: refreshed on a timer, early for an unknown hotkey at most once per
miss interval, one read for concurrent lookups, and the last good table kept through an outage."""

import asyncio

from dht.engine.interfaces import StakeInfo
from dht.policy.stake import CachedStakeSource, StakeTable, StaticStakeSource


class Reads:
    def __init__(self) -> None:
        self.table: StakeTable = {"a": StakeInfo(stake=5, role="miner")}
        self.count = 0
        self.fail = False

    async def __call__(self) -> StakeTable:
        self.count += 1
        await asyncio.sleep(0)
        if self.fail:
            raise ConnectionError("chain down")
        return dict(self.table)


async def test_timer_and_miss_refreshes():
    reads, now = Reads(), [0.0]
    source = CachedStakeSource(reads, refresh_s=60, miss_refresh_s=10, clock=lambda: now[0])
    assert await source.lookup("a") == StakeInfo(stake=5, role="miner")
    assert await source.lookup("b") is None
    assert reads.count == 1  # a miss within miss_refresh_s costs no read
    reads.table["b"] = StakeInfo(stake=1, role="validator")
    now[0] = 10.0
    assert await source.lookup("b") == StakeInfo(stake=1, role="validator")
    assert await source.lookup("a") is not None
    assert reads.count == 2  # known hotkeys are served from memory until the timer
    now[0] = 70.0
    await source.lookup("a")
    assert reads.count == 3


async def test_concurrent_lookups_share_one_read():
    reads = Reads()
    source = CachedStakeSource(reads, clock=lambda: 0.0)
    results = await asyncio.gather(*(source.lookup("a") for _ in range(10)))
    assert all(r is not None for r in results)
    assert reads.count == 1


async def test_an_outage_keeps_the_last_good_table(caplog):
    reads, now = Reads(), [0.0]
    source = CachedStakeSource(reads, refresh_s=60, clock=lambda: now[0])
    assert await source.lookup("a") is not None
    reads.fail = True
    now[0] = 61.0
    assert await source.lookup("a") == StakeInfo(stake=5, role="miner")
    assert "stake refresh failed" in caplog.text
    assert await source.lookup("a") is not None
    assert reads.count == 2  # the failed read counts as a refresh: no retry storm


async def test_static_table():
    source = StaticStakeSource({"a": StakeInfo(stake=1, role="miner")})
    assert await source.lookup("a") == StakeInfo(stake=1, role="miner")
    assert await source.lookup("b") is None
