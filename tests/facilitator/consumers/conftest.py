"""Fixtures for the validator channel tests (facilitator/consumers.py)."""

import pytest
from django.conf import settings

from chain.interface import Role
from chain.local import LocalChain
from protocol.keys import hotkey_create
from protocol.nonces import RedisNonceStore


@pytest.fixture(autouse=True)
def _server_nonces(server_nonces: RedisNonceStore) -> None:
    """Every channel test gets the root `server_nonces`."""


@pytest.fixture
def stranger():
    """A validator key that is on no chain: enough for refusals decided before `authorize`."""
    return hotkey_create()[0]


@pytest.fixture
def registered_validator_key(node_key, executor_classes):
    hotkey = hotkey_create()[0]
    chain = LocalChain()
    chain.register(hotkey=hotkey.ss58, coldkey=hotkey_create()[0].ss58, role=Role.VALIDATOR)
    chain.add_stake(hotkey=hotkey.ss58, amount=settings.MIN_VALIDATOR_STAKE)
    return hotkey
