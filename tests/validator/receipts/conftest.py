"""A receipt pull against miners served on loopback: small bounds, a counted validator, keys."""

from collections.abc import Iterator
from typing import Any

import pytest

from chain.interface import Role
from protocol.keys import Hotkey
from tests.validator.receipts.miner_server import MinerServer, key


@pytest.fixture
def pull_settings(settings: Any) -> Any:
    """Bounds small enough for tests: 0.5 s per request, 2 s per pull, 64 KiB bodies, 5 pages."""
    settings.VALIDATOR_RECEIPT_PULL_TIMEOUT_S = 0.5
    settings.VALIDATOR_RECEIPT_PULL_DEADLINE_S = 2.0
    settings.VALIDATOR_RECEIPT_PULL_MAX_BYTES = 64 * 1024
    settings.VALIDATOR_RECEIPT_PULL_MAX_PAGES = 5
    settings.VALIDATOR_RECEIPT_PULL_CONCURRENCY = 4
    settings.CHAIN_NETUID = 1
    settings.MIN_VALIDATOR_STAKE = 1000
    return settings


@pytest.fixture
def miner_server() -> Iterator[MinerServer]:
    with MinerServer().running() as server:
        yield server


@pytest.fixture
def validator_key(local_chain: Any, pull_settings: Any) -> Hotkey:
    """A validator of the subnet with enough stake: its receipts count."""
    hotkey = key("validator")
    local_chain.register(hotkey=hotkey.ss58, coldkey=key("validator-cold").ss58, role=Role.VALIDATOR)
    local_chain.add_stake(hotkey=hotkey.ss58, amount=pull_settings.MIN_VALIDATOR_STAKE)
    return hotkey
