"""Ports for test networks: free for TCP and UDP, below the ephemeral range, never handed out twice."""

import random
import socket

import pytest

from deploy.localnet import ports
from deploy.localnet.ports import HIGH, LOW, free_ports


def test_ports_are_distinct_free_and_below_the_ephemeral_range() -> None:
    picked = free_ports(20)
    assert len(set(picked)) == 20
    assert all(LOW <= p <= HIGH < 32768 for p in picked)
    with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        tcp.bind(("127.0.0.1", picked[0]))
        udp.bind(("127.0.0.1", picked[0]))
    assert not set(picked) & set(free_ports(20))  # never handed out twice in one process


def test_a_port_in_use_is_skipped() -> None:
    rng = random.Random(7)
    first = random.Random(7).randint(LOW, HIGH)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", first))
        busy.listen()
        assert first not in free_ports(3, rng=rng)


def test_running_out_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ports, "_free", lambda port: False)
    with pytest.raises(RuntimeError, match="found only 0 of 2 free loopback ports"):
        free_ports(2)
