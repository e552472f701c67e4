"""Stake comes from a real ChainClient (LocalChain) through the cached chain stake source."""

import pytest
from asgiref.sync import sync_to_async

from chain.interface import Role
from chain.local import LocalChain
from dht.stake import chain_stake_source

pytestmark = pytest.mark.django_db(transaction=True)


async def test_chain_stake_source_reads_local_chain_and_refreshes_on_a_miss(make_hotkey):
    chain = LocalChain()
    staked, late = make_hotkey(), make_hotkey()
    await _register(chain, staked.ss58, stake=500)
    now = [0.0]
    source = chain_stake_source(chain, refresh_s=60, miss_refresh_s=10, clock=lambda: now[0])
    info = await source.lookup(staked.ss58)
    assert info is not None
    assert (info.stake, info.role) == (500, "miner")
    await _register(chain, late.ss58, stake=7)
    assert await source.lookup(late.ss58) is None  # cached miss: no chain call per unknown owner
    now[0] = 11.0
    info = await source.lookup(late.ss58)
    assert info is not None
    assert info.stake == 7


async def test_a_client_factory_is_called_per_read(make_hotkey):
    hotkey = make_hotkey()
    await _register(LocalChain(), hotkey.ss58, stake=3)
    calls = []

    def factory() -> LocalChain:
        calls.append(1)
        return LocalChain()

    now = [0.0]
    source = chain_stake_source(factory, refresh_s=60, clock=lambda: now[0])
    assert await source.lookup(hotkey.ss58) is not None
    now[0] = 61.0
    assert await source.lookup(hotkey.ss58) is not None
    assert len(calls) == 2


async def _register(chain: LocalChain, hotkey: str, *, stake: int) -> None:
    def work() -> None:
        chain.register(hotkey=hotkey, coldkey=hotkey, role=Role.MINER)
        chain.add_stake(hotkey=hotkey, amount=stake)

    await sync_to_async(work)()
