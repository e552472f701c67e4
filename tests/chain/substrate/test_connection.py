"""One substrate-interface connection with timeouts and typed errors (chain/substrate/connection.py)."""

import socket
import time

import pytest

from chain.interface import ChainError, ChainUnavailable
from chain.substrate.connection import SubstrateConnection


def test_a_node_that_never_answers_times_out():
    with socket.socket() as silent:  # accepts TCP connections, never speaks websocket
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        connection = SubstrateConnection(url=f"ws://127.0.0.1:{port}", timeout_s=0.3, retries=2, backoff_s=0.01)
        started = time.monotonic()
        with pytest.raises(ChainUnavailable):
            connection.read(lambda si: si.get_chain_head())
        assert time.monotonic() - started < 3


def test_a_connection_needs_an_endpoint():
    with pytest.raises(ChainError, match="CHAIN_ENDPOINT is not set"):
        SubstrateConnection(url="")
