"""The stake table from the chain: any ChainClient-like object (its `neurons()`), read off the
event loop and cached by dht.policy.stake.CachedStakeSource."""

from collections.abc import Callable, Iterable
from typing import Protocol

from dht.engine.interfaces import StakeInfo
from dht.policy.stake import CachedStakeSource, StakeTable
from protocol.database import db_sync_to_async


class NeuronLike(Protocol):
    @property
    def hotkey(self) -> str: ...

    @property
    def stake(self) -> int: ...

    @property
    def role(self) -> str: ...


class NeuronsSource(Protocol):
    def neurons(self) -> Iterable[NeuronLike]: ...


def chain_stake_source(
    chain: NeuronsSource | Callable[[], NeuronsSource],
    *,
    refresh_s: float = 60.0,
    miss_refresh_s: float = 10.0,
    clock: Callable[[], float] | None = None,
) -> CachedStakeSource:
    """`chain` may be a client or a factory of one (chain.client.chain_client), called per read."""

    def read() -> StakeTable:
        client = chain() if callable(chain) else chain
        return {n.hotkey: StakeInfo(stake=int(n.stake), role=str(n.role)) for n in client.neurons()}

    extra = {"clock": clock} if clock is not None else {}
    return CachedStakeSource(db_sync_to_async(read), refresh_s=refresh_s, miss_refresh_s=miss_refresh_s, **extra)
