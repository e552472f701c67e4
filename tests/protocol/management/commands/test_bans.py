import asyncio
import uuid
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from protocol.limits import PeerLimits


def _bans(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("bans", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


async def _ban(peer: str, reason: str) -> None:
    limits = PeerLimits()
    for _ in range(2):
        await limits.strike(peer, reason=reason)
    await limits.close()


@pytest.fixture(autouse=True)
def own_prefix(settings: Any) -> None:
    settings.PROTOCOL_LIMITS_PREFIX = f"{settings.PROTOCOL_LIMITS_PREFIX}{uuid.uuid4().hex}:"
    settings.PROTOCOL_BAN_STRIKES, settings.PROTOCOL_BAN_S = 2, 300.0


def test_bans_lists_each_banned_peer_with_its_time_left_and_reason() -> None:
    assert _bans() == ("", "0 peer(s) banned\n")
    asyncio.run(_ban("ip:203.0.113.7", "handshake unauthenticated: bad signature"))
    asyncio.run(_ban("hk:mallory", "over the frame rate"))
    out, err = _bans()
    assert out.splitlines() == [
        "hk:mallory\t300s\tover the frame rate",
        "ip:203.0.113.7\t300s\thandshake unauthenticated: bad signature",
    ]
    assert err == "2 peer(s) banned\n"


def test_bans_lift_removes_a_ban_and_refuses_a_peer_that_is_not_banned() -> None:
    asyncio.run(_ban("hk:mallory", "over the frame rate"))
    _, err = _bans("--lift", "hk:mallory")
    assert err == "lifted the ban on hk:mallory\n"
    assert _bans() == ("", "0 peer(s) banned\n")
    with pytest.raises(CommandError, match="hk:mallory is not banned"):
        _bans("--lift", "hk:mallory")
