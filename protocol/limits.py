"""Per-peer limits shared by every process of a node, in Redis: a token bucket per peer and bans
that expire on their own.

A process leases tokens from the peer's bucket in small batches (one script call per batch, which
also reports a ban), so a frame costs a Redis round trip only once every `lease` frames; a ban set
elsewhere is noticed at the next lease, and at once by connections of the process that set it.

A peer is `hk:<ss58>` once its handshake is verified, `ip:<address>` before. Keys live under
`PROTOCOL_LIMITS_PREFIX`, so the nodes of a local network sharing one Redis never share bans."""

import asyncio
import enum
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from redis.asyncio import Redis

# Grants up to ARGV[4] tokens: {1, granted}, {2, retry_ms} when none is left, {0, ttl_ms, reason} when banned.
_ADMIT = """
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then return {0, ttl, redis.call('GET', KEYS[2])} end
local now, rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local held = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens, at = tonumber(held[1]), tonumber(held[2])
if tokens == nil then tokens, at = burst, now end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local reply = {2, math.ceil((1 - tokens) * 1000 / rate)}
local granted = math.min(math.floor(tokens), tonumber(ARGV[4]))
if granted >= 1 then tokens, reply = tokens - granted, {1, granted} end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return reply
"""
# Counts a strike in a window opened by the first one; at the limit, bans and returns 1.
_STRIKE = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if n >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[3])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


class Outcome(enum.Enum):
    ADMITTED = "admitted"
    THROTTLED = "throttled"
    BANNED = "banned"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    retry_after_s: float = 0.0
    reason: str = ""  # why the peer is banned


ADMITTED = Verdict(Outcome.ADMITTED)
MAX_LEASES = 10_000  # peers whose leased tokens a process remembers (a flood of fresh keys evicts)


@dataclass(frozen=True)
class Ban:
    peer: str
    reason: str
    remaining_s: float


def peer_key_for_hotkey(hotkey: str) -> str:
    return f"hk:{hotkey}"


def peer_key_for_address(address: str) -> str:
    return f"ip:{address}"


class PeerLimits:
    def __init__(self, *, url: str | None = None, prefix: str | None = None) -> None:
        self._redis = Redis.from_url(url or settings.REDIS_URL)
        self._prefix = prefix or settings.PROTOCOL_LIMITS_PREFIX
        self._admit = self._redis.register_script(_ADMIT)
        self._strike = self._redis.register_script(_STRIKE)
        self._leased: OrderedDict[str, int] = OrderedDict()  # tokens this process holds, per peer
        self._banned: dict[str, tuple[float, str]] = {}  # bans this process set (until, reason): seen free

    async def admit(self, peer: str, *, rate_per_s: float, burst: int) -> Verdict:
        """Take one token from the peer's bucket, unless it is banned."""
        until, reason = self._banned.get(peer, (0.0, ""))
        if until > time.time():
            return Verdict(Outcome.BANNED, retry_after_s=until - time.time(), reason=reason)
        held = self._leased.pop(peer, 0)
        if held == 0:
            # A lease small against the burst: tokens a process holds are no one else's.
            verdict, held = await self._lease(peer, rate_per_s=rate_per_s, burst=burst, want=max(1, burst // 64))
            if verdict is not ADMITTED:
                return verdict
        self._leased[peer] = held - 1
        while len(self._leased) > MAX_LEASES:
            self._leased.popitem(last=False)
        return ADMITTED

    async def _lease(self, peer: str, *, rate_per_s: float, burst: int, want: int) -> tuple[Verdict, int]:
        reply: list[Any] = await self._admit(
            keys=[self._key("bucket", peer), self._key("ban", peer)], args=[_now_ms(), rate_per_s, burst, want]
        )
        if reply[0] == 1:
            return ADMITTED, int(reply[1])
        return self._verdict(reply), 0

    @staticmethod
    def _verdict(reply: list[Any]) -> Verdict:
        if reply[0] == 2:
            return Verdict(Outcome.THROTTLED, retry_after_s=reply[1] / 1000)
        return Verdict(Outcome.BANNED, retry_after_s=reply[1] / 1000, reason=_text(reply[2]))

    async def ban_get(self, peer: str) -> Ban | None:
        key = self._key("ban", peer)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(key)
            pipe.pttl(key)
            reason, ttl_ms = await pipe.execute()
        if reason is None or ttl_ms <= 0:
            return None
        return Ban(peer=peer, reason=_text(reason), remaining_s=ttl_ms / 1000)

    async def strike(self, peer: str, *, reason: str) -> bool:
        """Count a malformed or refused frame; True when this one got the peer banned."""
        banned = await self._strike(
            keys=[self._key("strikes", peer), self._key("ban", peer)],
            args=[
                max(1, int(settings.PROTOCOL_BAN_WINDOW_S * 1000)),
                settings.PROTOCOL_BAN_STRIKES,
                max(1, int(settings.PROTOCOL_BAN_S * 1000)),
                reason[:500],
            ],
        )
        if banned:
            self._leased.pop(peer, None)
            now = time.time()
            self._banned = {p: ban for p, ban in self._banned.items() if ban[0] > now}
            self._banned[peer] = (now + settings.PROTOCOL_BAN_S, reason[:500])
        return bool(banned)

    async def bans(self) -> list[Ban]:
        """Every ban in force (a scan of this node's ban keys: for operators, not per frame)."""
        found: list[Ban] = []
        start = len(self._key("ban", ""))
        async for key in self._redis.scan_iter(match=self._key("ban", "*"), count=500):
            ban = await self.ban_get(_text(key)[start:])
            if ban is not None:
                found.append(ban)
        return sorted(found, key=lambda b: b.peer)

    async def lift(self, peer: str) -> bool:
        self._banned.pop(peer, None)
        return bool(await self._redis.delete(self._key("ban", peer), self._key("strikes", peer)))

    async def close(self) -> None:
        await self._redis.aclose()

    def _key(self, kind: str, peer: str) -> str:
        return f"{self._prefix}{kind}:{peer}"


def _now_ms() -> int:
    # Wall clock, not monotonic: every process of the node must read the same time.
    return int(time.time() * 1000)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


_limits: tuple[asyncio.AbstractEventLoop, PeerLimits] | None = None


def peer_limits() -> PeerLimits:
    """One client per process and event loop (a Redis connection belongs to the loop it opened on)."""
    global _limits
    loop = asyncio.get_running_loop()
    if _limits is None or _limits[0] is not loop:
        _limits = (loop, PeerLimits())
    return _limits[1]
