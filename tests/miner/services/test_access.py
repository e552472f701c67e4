"""Copying the chain's validators, which admission then reads (miner.selectors)."""

import pytest

from chain.interface import Role
from chain.local import LocalChain
from miner.models import KnownValidator
from miner.selectors import validator_refusal
from miner.services.access import validators_sync_from_chain
from tests.miner.factories import KnownValidatorFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("min_validator_stake", "local_chain")]


def _refused(hotkey: str) -> str:
    refusal = validator_refusal(hotkey)
    assert refusal is not None
    return refusal


def test_validators_sync_from_chain():
    chain = LocalChain()
    chain.register(hotkey="5V1", coldkey="5C1", role=Role.VALIDATOR)
    chain.add_stake(hotkey="5V1", amount=2000)
    chain.register(hotkey="5V2", coldkey="5C2", role=Role.VALIDATOR)
    chain.register(hotkey="5M1", coldkey="5C3", role=Role.MINER)
    KnownValidatorFactory.create(hotkey="5Gone")
    KnownValidatorFactory.create(hotkey="5V2", coldkey="old", stake=50)
    assert validators_sync_from_chain() == 2
    assert sorted(KnownValidator.objects.values_list("hotkey", "coldkey", "stake")) == [
        ("5V1", "5C1", 2000),
        ("5V2", "5C2", 0),
    ]
    assert validator_refusal("5V1") is None
    assert "stake 0" in _refused("5V2")
    assert "not a validator" in _refused("5M1")
    assert "not a validator" in _refused("5Gone")
