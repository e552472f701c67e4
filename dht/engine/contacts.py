"""Who may talk to us and who enters the routing table.

A peer is admitted when it is registered (the stake table knows its hotkey), or when it speaks
from a bootnode's address. A verified contact is offered to the routing table; when its bucket is
full, the least-recently-seen entry is pinged and kept if it still answers (Kademlia's rule)."""

from dht.engine.config import DhtConfig
from dht.engine.interfaces import StakeSource
from dht.engine.loops import TaskSet
from dht.engine.routing import Peer, RoutingTable
from dht.engine.rpc import RpcClient, RpcError
from dht.engine.transport import Addr

MAX_EVICTION_CHECKS = 64  # pings to full buckets' oldest entries in flight at once


class Contacts:
    def __init__(
        self, *, config: DhtConfig, routing: RoutingTable, stake: StakeSource, rpc: RpcClient, tasks: TaskSet
    ) -> None:
        self._config = config
        self._routing = routing
        self._stake = stake
        self._rpc = rpc
        self._tasks = tasks
        self.bootnodes: set[Addr] = set()
        self.evicting: set[str] = set()

    async def admitted(self, hotkey: str, addr: Addr) -> bool:
        if not self._config.require_registered_peers or addr in self.bootnodes:
            return True
        return await self._stake.lookup(hotkey) is not None

    def learn(self, hotkey: str, addr: Addr) -> None:
        lrs = self._routing.seen(hotkey, *addr)
        if lrs is not None and lrs.hotkey not in self.evicting and len(self.evicting) < MAX_EVICTION_CHECKS:
            self.evicting.add(lrs.hotkey)
            self._tasks.spawn(self._check_lrs(lrs))

    async def _check_lrs(self, lrs: Peer) -> None:
        """The bucket is full: keep the least-recently-seen peer if it still answers."""
        try:
            await self._rpc.call(lrs.addr, "ping", {}, to=lrs.hotkey, timeout_s=self._config.rpc_timeout_s)
            self._routing.seen(lrs.hotkey, *lrs.addr)
        except RpcError:
            self._routing.remove(lrs.hotkey)  # promotes the newest waiting peer
        finally:
            self.evicting.discard(lrs.hotkey)
