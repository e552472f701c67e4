"""Per-peer limits in Redis (protocol/limits.py), as two processes of one node see them: one bucket
per peer shared through leases, strikes that ban within a window, bans that expire, a listing for
operators, and a lift."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from protocol.limits import ADMITTED, Outcome, PeerLimits, peer_key_for_hotkey


@pytest.fixture
async def processes(settings: Any) -> AsyncIterator[tuple[PeerLimits, PeerLimits]]:
    """Two clients on one key prefix: two daphne processes of the same node."""
    settings.PROTOCOL_BAN_STRIKES, settings.PROTOCOL_BAN_WINDOW_S, settings.PROTOCOL_BAN_S = 3, 60.0, 60.0
    prefix = f"{settings.PROTOCOL_LIMITS_PREFIX}{uuid.uuid4().hex}:"
    pair = (PeerLimits(prefix=prefix), PeerLimits(prefix=prefix))
    yield pair
    for limits in pair:
        await limits.close()


async def test_one_bucket_per_peer_is_shared_by_every_process(processes: tuple[PeerLimits, PeerLimits]) -> None:
    a, b = processes
    peer = peer_key_for_hotkey("alice")
    got = [await limits.admit(peer, rate_per_s=0.5, burst=4) for limits in (a, b, a, b)]
    assert got == [ADMITTED] * 4
    over = await b.admit(peer, rate_per_s=0.5, burst=4)
    assert over.outcome is Outcome.THROTTLED
    assert 0 < over.retry_after_s <= 2.0
    assert await a.admit(peer_key_for_hotkey("bob"), rate_per_s=0.5, burst=4) == ADMITTED  # another peer


async def test_a_process_leases_a_batch_so_most_frames_cost_no_round_trip(
    processes: tuple[PeerLimits, PeerLimits], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = processes
    calls: list[object] = []
    script = a._admit

    async def counted(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return await script(**kwargs)

    monkeypatch.setattr(a, "_admit", counted)
    peer = peer_key_for_hotkey("alice")
    assert [await a.admit(peer, rate_per_s=0.001, burst=640) for _ in range(25)] == [ADMITTED] * 25
    assert len(calls) == 3  # leases of 640 // 64 = 10 tokens
    # The other process sees the bucket less the three whole leases.
    granted = 0
    while (await b.admit(peer, rate_per_s=0.001, burst=640)).outcome is Outcome.ADMITTED:
        granted += 1
    assert granted == 610


async def test_strikes_ban_the_peer_for_every_process_until_it_expires(
    processes: tuple[PeerLimits, PeerLimits], settings: Any
) -> None:
    a, b = processes
    settings.PROTOCOL_BAN_S = 1.0
    peer = peer_key_for_hotkey("mallory")
    assert [await a.strike(peer, reason="malformed: not JSON") for _ in range(3)] == [False, False, True]

    seen_by_b = await b.admit(peer, rate_per_s=100, burst=10)
    assert (seen_by_b.outcome, seen_by_b.reason) == (Outcome.BANNED, "malformed: not JSON")
    assert 0 < seen_by_b.retry_after_s <= 1.0
    assert (await a.admit(peer, rate_per_s=100, burst=10)).outcome is Outcome.BANNED
    ban = await b.ban_get(peer)
    assert ban is not None
    assert (ban.peer, ban.reason) == (peer, "malformed: not JSON")

    await asyncio.sleep(1.2)
    assert await b.ban_get(peer) is None
    assert await a.admit(peer, rate_per_s=100, burst=10) == ADMITTED
    assert await b.admit(peer, rate_per_s=100, burst=10) == ADMITTED


async def test_strikes_outside_the_window_do_not_add_up(
    processes: tuple[PeerLimits, PeerLimits], settings: Any
) -> None:
    a, _ = processes
    settings.PROTOCOL_BAN_WINDOW_S = 0.3
    peer = peer_key_for_hotkey("clumsy")
    for _ in range(2):
        assert not await a.strike(peer, reason="malformed")
        assert not await a.strike(peer, reason="malformed")
        await asyncio.sleep(0.4)
    assert await a.ban_get(peer) is None


async def test_bans_are_listed_and_can_be_lifted(processes: tuple[PeerLimits, PeerLimits]) -> None:
    a, b = processes
    for name in ("mallory", "trudy"):
        for _ in range(3):
            await a.strike(peer_key_for_hotkey(name), reason=f"{name} flooded")
    bans = await b.bans()
    assert [(ban.peer, ban.reason) for ban in bans] == [
        ("hk:mallory", "mallory flooded"),
        ("hk:trudy", "trudy flooded"),
    ]
    assert all(0 < ban.remaining_s <= 60.0 for ban in bans)

    assert await a.lift("hk:mallory")
    assert [ban.peer for ban in await b.bans()] == ["hk:trudy"]
    assert await a.admit("hk:mallory", rate_per_s=1, burst=1) == ADMITTED
    assert not await a.lift("hk:nobody")
