"""The Kademlia routing table: 256 k-buckets by XOR distance, least-recently-seen first.

Only peers that spoke to us directly with a verified signature are inserted (S/Kademlia): peers a
third party merely mentions are lookup candidates, never table entries. A full bucket keeps its
old entries (long-lived nodes are the reliable ones) unless the least-recently-seen one fails a
ping; newcomers wait in a bounded replacement cache and are promoted when an entry is evicted."""

import random
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from dht.engine.ids import ID_BITS, bucket_index, node_id


@dataclass
class Peer:
    hotkey: str
    host: str
    port: int
    id: int
    last_seen: float = 0.0
    failures: int = 0

    @property
    def addr(self) -> tuple[str, int]:
        return (self.host, self.port)

    @classmethod
    def make(cls, hotkey: str, host: str, port: int, last_seen: float = 0.0) -> "Peer":
        return cls(hotkey=hotkey, host=host, port=port, id=node_id(hotkey), last_seen=last_seen)


class RoutingTable:
    def __init__(
        self, *, own_id: int, k: int, failures_before_evict: int = 2, clock: Callable[[], float] = time.time
    ) -> None:
        self.own_id = own_id
        self.k = k
        self._max_failures = failures_before_evict
        self._clock = clock
        self._buckets: dict[int, OrderedDict[str, Peer]] = {}
        self._replacements: dict[int, OrderedDict[str, Peer]] = {}
        self._touched: dict[int, float] = {}
        self._index: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._index)

    def get(self, hotkey: str) -> Peer | None:
        index = self._index.get(hotkey)
        return self._buckets[index][hotkey] if index is not None else None

    def peers(self) -> list[Peer]:
        return [peer for bucket in self._buckets.values() for peer in bucket.values()]

    def seen(self, hotkey: str, host: str, port: int) -> Peer | None:
        """Record a verified contact. Returns the bucket's least-recently-seen peer when the bucket
        is full and the newcomer is waiting: the caller pings it and calls `failed` or `seen`."""
        peer_id = node_id(hotkey)
        if peer_id == self.own_id:
            return None
        index = bucket_index(self.own_id, peer_id)
        bucket = self._buckets.setdefault(index, OrderedDict())
        now = self._clock()
        peer = bucket.pop(hotkey, None)
        if peer is not None:
            peer.host, peer.port, peer.last_seen, peer.failures = host, port, now, 0
            bucket[hotkey] = peer
            return None
        newcomer = Peer(hotkey=hotkey, host=host, port=port, id=peer_id, last_seen=now)
        if len(bucket) < self.k:
            bucket[hotkey] = newcomer
            self._index[hotkey] = index
            return None
        waiting = self._replacements.setdefault(index, OrderedDict())
        waiting.pop(hotkey, None)
        waiting[hotkey] = newcomer
        while len(waiting) > self.k:
            waiting.popitem(last=False)
        return next(iter(bucket.values()))

    def failed(self, hotkey: str) -> bool:
        """Count a failed RPC; True when the peer was evicted (and a replacement promoted)."""
        peer = self.get(hotkey)
        if peer is None:
            return False
        peer.failures += 1
        if peer.failures < self._max_failures:
            return False
        self.remove(hotkey)
        return True

    def remove(self, hotkey: str) -> None:
        index = self._index.pop(hotkey, None)
        if index is None:
            return
        del self._buckets[index][hotkey]
        waiting = self._replacements.get(index)
        if waiting:
            _, promoted = waiting.popitem(last=True)  # the most recently seen newcomer
            self._buckets[index][promoted.hotkey] = promoted
            self._index[promoted.hotkey] = index

    def closest(self, target: int, count: int, exclude: frozenset[str] = frozenset()) -> list[Peer]:
        candidates = [p for p in self.peers() if p.hotkey not in exclude]
        candidates.sort(key=lambda p: p.id ^ target)
        return candidates[:count]

    def touch(self, target: int) -> None:
        if target != self.own_id:
            self._touched[bucket_index(self.own_id, target)] = self._clock()

    def stale_buckets(self, interval_s: float) -> list[int]:
        """Non-empty buckets no lookup has passed through within `interval_s`."""
        now = self._clock()
        return [i for i, b in self._buckets.items() if b and now - self._touched.get(i, 0.0) >= interval_s]

    def far_buckets_to_fill(self, *, below: int = 1) -> list[int]:
        """Buckets farther than our nearest neighbour holding fewer than `below` peers, farthest first.
        A join's self-lookup only meets nodes near us; without contacts in the far buckets a node
        cannot route to half of the id space (Kademlia's join refreshes these)."""
        filled = [i for i, b in self._buckets.items() if b]
        if not filled:
            return []
        nearest = min(filled)
        return [i for i in range(ID_BITS - 1, nearest, -1) if len(self._buckets.get(i, ())) < below]

    def random_id_in_bucket(self, index: int) -> int:
        """A random id whose highest bit differing from ours is `index`."""
        low = random.getrandbits(index) if index > 0 else 0
        return (self.own_id ^ (1 << index) ^ low) % (1 << ID_BITS)
