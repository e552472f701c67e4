"""Chain fixtures: the files in CHAIN_FIXTURES_DIR (skip, naming the file, when absent) and one
Chopsticks per runtime per session, on a free loopback port, installed on first use."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from substrateinterface import Keypair

from chain.client import chain_clients_close
from chain.devnet.chopsticks import SPECS, Chopsticks
from chain.substrate.connection import SubstrateConnection
from chain.substrate.keyring import KeyRing
from protocol.identity import node_hotkey


def chain_fixture(name: str) -> Path:
    path = Path(settings.CHAIN_FIXTURES_DIR) / name
    if not path.is_file():
        pytest.skip(f"chain fixture missing: {path} (set CHAIN_FIXTURES_DIR)")
    return path


@pytest.fixture(scope="session")
def metadata_343_hex() -> str:
    return chain_fixture("subtensor-spec343-metadata-v14.hex").read_text().strip()


def _node(runtime: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chopsticks]:
    spec = chain_fixture(SPECS[runtime])
    log = tmp_path_factory.mktemp("chopsticks") / f"{runtime}.log"
    node = Chopsticks(spec, log_path=log).start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="session")
def subtensor_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chopsticks]:
    yield from _node("subtensor", tmp_path_factory)


@pytest.fixture(scope="session")
def hypertensor_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chopsticks]:
    yield from _node("hypertensor", tmp_path_factory)


@pytest.fixture(scope="session")
def subtensor_rpc(subtensor_node: Chopsticks) -> Iterator[SubstrateConnection]:
    """A connection for the test's own dev RPCs (funding, blocks, storage checks)."""
    connection = SubstrateConnection(url=subtensor_node.endpoint, timeout_s=60)
    yield connection
    connection.close()


@pytest.fixture
def sr25519():
    def make(uri: str) -> Keypair:
        return Keypair.create_from_uri(uri, ss58_format=42)

    return make


@pytest.fixture
def keyring_of():
    def make(*hotkeys: Keypair, coldkey: Keypair | None = None) -> KeyRing:
        return KeyRing(hotkeys, coldkey=coldkey)

    return make


@pytest.fixture
def fresh_chain_client():
    """chain_client() keeps one client per configuration: start and end with none."""
    chain_clients_close()
    yield
    chain_clients_close()
    node_hotkey.cache_clear()
