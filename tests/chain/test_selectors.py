import pytest

from chain.interface import Role
from chain.local import LocalChain
from chain.selectors import chain_validator_refusal
from protocol.keys import hotkey_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(settings) -> LocalChain:
    settings.CHAIN = "local"
    settings.MIN_VALIDATOR_STAKE = 1000
    return LocalChain()


def _register(chain, role: Role, stake: int) -> str:
    hotkey = hotkey_create()[0].ss58
    chain.register(hotkey=hotkey, coldkey=hotkey_create()[0].ss58, role=role)
    if stake:
        chain.add_stake(hotkey=hotkey, amount=stake)
    return hotkey


def test_staked_validator_is_admitted(chain):
    assert chain_validator_refusal(_register(chain, Role.VALIDATOR, 1000)) is None
    assert chain_validator_refusal(_register(chain, Role.VALIDATOR, 10**9)) is None


def test_unregistered_hotkey_is_refused(chain):
    hotkey = hotkey_create()[0].ss58
    assert chain_validator_refusal(hotkey) == f"{hotkey} is not registered on subnet 1"


def test_miner_is_refused(chain):
    hotkey = _register(chain, Role.MINER, 10**6)
    assert chain_validator_refusal(hotkey) == f"{hotkey} is registered as a miner, not a validator"


def test_under_staked_validator_is_refused(chain):
    hotkey = _register(chain, Role.VALIDATOR, 999)
    assert chain_validator_refusal(hotkey) == f"{hotkey} has stake 999 < minimum 1000"
    chain.add_stake(hotkey=hotkey, amount=1)
    assert chain_validator_refusal(hotkey) is None


def test_minimum_stake_comes_from_settings(chain, settings):
    hotkey = _register(chain, Role.VALIDATOR, 0)
    assert "stake 0 < minimum 1000" in chain_validator_refusal(hotkey)
    settings.MIN_VALIDATOR_STAKE = 0
    assert chain_validator_refusal(hotkey) is None


def test_registered_on_another_subnet_is_refused(chain, settings):
    hotkey = hotkey_create()[0].ss58
    other = LocalChain(netuid=5)
    other.register(hotkey=hotkey, coldkey=hotkey_create()[0].ss58, role=Role.VALIDATOR)
    other.add_stake(hotkey=hotkey, amount=5000)
    assert "not registered on subnet 1" in chain_validator_refusal(hotkey)
    settings.CHAIN_NETUID = 5
    assert chain_validator_refusal(hotkey) is None
