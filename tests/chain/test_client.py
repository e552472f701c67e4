"""Choosing and building the chain client from settings (chain/client.py): one cached client per
configuration, a clear error for an unknown backend, closing the cache, and this node's keyring.
No test here contacts a chain: real backends connect on first use only."""

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from substrateinterface import Keypair

from chain.client import chain_client, chain_clients_close, default_keyring
from chain.hypertensor.chain import HypertensorChain
from chain.interface import ChainError
from chain.local import LocalChain
from chain.substrate.subtensor import SubtensorChain
from protocol.identity import node_hotkey
from protocol.keys import Hotkey, hotkey_create, hotkey_write


@pytest.fixture(autouse=True)
def _fresh(fresh_chain_client: None) -> None:
    """Every test starts and ends with no cached client."""


@pytest.fixture
def subtensor_settings(settings: Any) -> Any:
    settings.CHAIN, settings.CHAIN_ENDPOINT, settings.CHAIN_NETUID = "subtensor", "ws://127.0.0.1:1", 7
    settings.CHAIN_BLOCK_SECONDS = 6.0
    settings.CHAIN_TIMEOUT_S, settings.CHAIN_RETRIES = 2.5, 4
    settings.MIN_VALIDATOR_STAKE = 1234
    return settings


def _key_file(path: Path, crypto: Any = "sr25519") -> Hotkey:
    hotkey, seed = hotkey_create(crypto)
    hotkey_write(path=path, hotkey=hotkey, seed_hex=seed)
    return hotkey


def test_one_client_per_configuration(subtensor_settings: Any) -> None:
    first = chain_client()
    assert chain_client() is first
    subtensor_settings.CHAIN_NETUID = 8
    other_subnet = chain_client()
    assert other_subnet is not first
    subtensor_settings.CHAIN_ENDPOINT = "ws://127.0.0.1:2"
    assert chain_client() is not other_subnet
    subtensor_settings.CHAIN_ENDPOINT, subtensor_settings.CHAIN_NETUID = "ws://127.0.0.1:1", 7
    assert chain_client() is first


def test_a_subtensor_client_is_built_from_settings(subtensor_settings: Any) -> None:
    client = chain_client()
    assert isinstance(client, SubtensorChain)
    assert (client.netuid, client.min_validator_stake, client.block_seconds()) == (7, 1234, 6.0)
    assert (client.connection.url, client.connection._timeout_s, client.connection._retries) == (
        "ws://127.0.0.1:1",
        2.5,
        4,
    )


def test_a_hypertensor_client_takes_the_netuid_as_its_subnet(subtensor_settings: Any) -> None:
    subtensor_settings.CHAIN = "hypertensor"
    client = chain_client()
    assert isinstance(client, HypertensorChain)
    assert (client.netuid, client.block_seconds(), client.connection.url) == (7, 6.0, "ws://127.0.0.1:1")


def test_the_local_chain_takes_only_the_netuid(settings: Any) -> None:
    settings.CHAIN, settings.CHAIN_NETUID, settings.LOCAL_CHAIN_BLOCK_SECONDS = "local", 3, 1.0
    client = chain_client()
    assert isinstance(client, LocalChain)
    assert (client.netuid, client.block_seconds()) == (3, 1.0)


def test_an_unknown_chain_is_a_clear_value_error_and_nothing_is_cached(settings: Any) -> None:
    settings.CHAIN = "ethereum"
    with pytest.raises(
        ValueError, match=r"^CHAIN='ethereum': expected one of \['hypertensor', 'local', 'subtensor'\]$"
    ):
        chain_client()
    settings.CHAIN = "local"
    assert isinstance(chain_client(), LocalChain)


def test_closing_closes_every_cached_client_and_forgets_it(
    subtensor_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[str] = []
    subtensor = chain_client()
    subtensor_settings.CHAIN = "hypertensor"
    hypertensor = chain_client()
    for name, client in (("subtensor", subtensor), ("hypertensor", hypertensor)):
        monkeypatch.setattr(client, "close", functools.partial(closed.append, name))
    chain_clients_close()
    assert sorted(closed) == ["hypertensor", "subtensor"]
    assert chain_client() is not hypertensor
    subtensor_settings.CHAIN = "subtensor"
    assert chain_client() is not subtensor


def test_the_keyring_is_loaded_on_first_use_not_when_the_client_is_built(
    subtensor_settings: Any, tmp_path: Path
) -> None:
    subtensor_settings.CHAIN_HOTKEY_PATH = str(tmp_path / "chain-hotkey.json")
    client = chain_client()  # the key file does not exist yet: building must not need it
    hotkey = _key_file(tmp_path / "chain-hotkey.json")
    assert isinstance(client, SubtensorChain)
    assert client.keyring.hotkey_signer(purpose="test").ss58_address == hotkey.ss58


def test_default_keyring_uses_the_chain_key_files(settings: Any, tmp_path: Path) -> None:
    hot = _key_file(tmp_path / "hot.json", "ed25519")
    cold = _key_file(tmp_path / "cold.json")
    settings.CHAIN_HOTKEY_PATH, settings.CHAIN_COLDKEY_PATH = str(tmp_path / "hot.json"), str(tmp_path / "cold.json")
    keyring = default_keyring()
    assert [kp.public_key for kp in keyring.hotkeys] == [hot.keypair.public_key]
    assert isinstance(keyring.coldkey, Keypair)
    assert keyring.coldkey.ss58_address == cold.ss58


def test_default_keyring_falls_back_to_the_node_hotkey(settings: Any, node_key: Hotkey) -> None:
    settings.CHAIN_HOTKEY_PATH, settings.CHAIN_COLDKEY_PATH = "", ""
    keyring = default_keyring()
    assert [kp.ss58_address for kp in keyring.hotkeys] == [node_key.ss58]
    assert keyring.coldkey is None


@pytest.fixture
def no_node_key(settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.HOTKEY_PATH = tmp_path / "missing.json"
    node_hotkey.cache_clear()
    yield
    node_hotkey.cache_clear()


@pytest.mark.usefixtures("no_node_key")
def test_without_any_key_file_the_keyring_is_empty_and_only_a_write_fails(settings: Any) -> None:
    settings.CHAIN_HOTKEY_PATH, settings.CHAIN_COLDKEY_PATH = "", ""
    keyring = default_keyring()
    assert (keyring.hotkeys, keyring.coldkey) == ([], None)
    with pytest.raises(ChainError, match="needs this node's chain hotkey: set CHAIN_HOTKEY_PATH"):
        keyring.hotkey_signer(purpose="registration")


@pytest.mark.usefixtures("no_node_key")
@pytest.mark.parametrize("which", ["CHAIN_HOTKEY_PATH", "CHAIN_COLDKEY_PATH"])
def test_a_configured_key_file_that_is_missing_fails_naming_it(settings: Any, tmp_path: Path, which: str) -> None:
    settings.CHAIN_HOTKEY_PATH, settings.CHAIN_COLDKEY_PATH = "", ""
    setattr(settings, which, str(tmp_path / "nowhere.json"))
    with pytest.raises(ChainError, match=f"no key file at {tmp_path / 'nowhere.json'}"):
        default_keyring()
