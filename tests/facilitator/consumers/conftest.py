"""Fixtures for the validator channel tests (facilitator/consumers.py)."""

import pytest
from django.conf import settings

import protocol.consumer
from chain.interface import Role
from chain.local import LocalChain
from protocol.keys import hotkey_create
from protocol.nonces import RedisNonceStore


@pytest.fixture(autouse=True)
async def server_nonces(monkeypatch, nonce_prefix):
    """The consumer's process-wide nonce store, fresh for this test's event loop and key prefix."""
    store = RedisNonceStore(prefix=nonce_prefix)
    monkeypatch.setattr(protocol.consumer, "_store", store)
    yield store
    await store.close()


@pytest.fixture
def stranger():
    """A validator key that is on no chain: enough for refusals decided before `authorize`."""
    return hotkey_create()[0]


@pytest.fixture
def validator(node_key, executor_classes):
    hotkey = hotkey_create()[0]
    chain = LocalChain()
    chain.register(hotkey=hotkey.ss58, coldkey=hotkey_create()[0].ss58, role=Role.VALIDATOR)
    chain.add_stake(hotkey=hotkey.ss58, amount=settings.MIN_VALIDATOR_STAKE)
    return hotkey
