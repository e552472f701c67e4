import pytest

from chain.interface import Role
from chain.local import LocalChain
from miner.models import AccessRule, KnownValidator
from miner.services.access import validator_refusal, validators_sync_from_chain
from tests.miner.factories import AccessRuleFactory, KnownValidatorFactory

pytestmark = pytest.mark.django_db
HOTKEY, COLDKEY = AccessRule.Kind.HOTKEY, AccessRule.Kind.COLDKEY
BLACK, WHITE = AccessRule.List.BLACKLIST, AccessRule.List.WHITELIST


@pytest.fixture(autouse=True)
def _min_stake(settings):
    settings.MIN_VALIDATOR_STAKE = 1000
    settings.CHAIN = "local"


def test_known_staked_validator_is_admitted():
    validator = KnownValidatorFactory(stake=1000)
    assert validator_refusal(validator.hotkey) is None


def test_unknown_validator_is_refused():
    assert validator_refusal("5Nobody") == "5Nobody is not a validator registered on subnet 1"


def test_under_staked_validator_is_refused():
    validator = KnownValidatorFactory(stake=999)
    assert validator_refusal(validator.hotkey) == f"{validator.hotkey} has stake 999 < minimum 1000"


def test_blacklisted_hotkey_is_refused():
    validator = KnownValidatorFactory()
    other = KnownValidatorFactory()
    AccessRuleFactory(kind=HOTKEY, list=BLACK, key=validator.hotkey)
    assert validator_refusal(validator.hotkey) == f"hotkey {validator.hotkey} is blacklisted"
    assert validator_refusal(other.hotkey) is None


def test_blacklisted_coldkey_refuses_all_its_hotkeys():
    a = KnownValidatorFactory(coldkey="5SharedCold")
    b = KnownValidatorFactory(coldkey="5SharedCold")
    c = KnownValidatorFactory()
    AccessRuleFactory(kind=COLDKEY, list=BLACK, key="5SharedCold")
    assert validator_refusal(a.hotkey) == "coldkey 5SharedCold is blacklisted"
    assert validator_refusal(b.hotkey) == "coldkey 5SharedCold is blacklisted"
    assert validator_refusal(c.hotkey) is None


def test_hotkey_whitelist_admits_only_listed_hotkeys():
    listed = KnownValidatorFactory()
    unlisted = KnownValidatorFactory()
    AccessRuleFactory(kind=HOTKEY, list=WHITE, key=listed.hotkey)
    assert validator_refusal(listed.hotkey) is None
    assert validator_refusal(unlisted.hotkey) == f"hotkey {unlisted.hotkey} is not on the whitelist"


def test_coldkey_whitelist_admits_only_listed_coldkeys():
    listed = KnownValidatorFactory(coldkey="5GoodCold")
    unlisted = KnownValidatorFactory()
    AccessRuleFactory(kind=COLDKEY, list=WHITE, key="5GoodCold")
    assert validator_refusal(listed.hotkey) is None
    assert validator_refusal(unlisted.hotkey) == f"coldkey {unlisted.coldkey} is not on the whitelist"


def test_a_hotkey_whitelist_does_not_restrict_coldkeys_and_both_must_pass():
    validator = KnownValidatorFactory(coldkey="5Cold")
    AccessRuleFactory(kind=HOTKEY, list=WHITE, key=validator.hotkey)
    AccessRuleFactory(kind=COLDKEY, list=BLACK, key="5Cold")
    assert validator_refusal(validator.hotkey) == "coldkey 5Cold is blacklisted"


def test_blacklist_wins_over_whitelist():
    validator = KnownValidatorFactory()
    AccessRuleFactory(kind=HOTKEY, list=WHITE, key=validator.hotkey)
    AccessRuleFactory(kind=HOTKEY, list=BLACK, key=validator.hotkey)
    assert "blacklisted" in validator_refusal(validator.hotkey)


def test_lists_do_not_admit_an_unstaked_validator():
    validator = KnownValidatorFactory(stake=0)
    AccessRuleFactory(kind=HOTKEY, list=WHITE, key=validator.hotkey)
    assert "stake 0 < minimum 1000" in validator_refusal(validator.hotkey)


def test_validators_sync_from_chain():
    chain = LocalChain()
    chain.register(hotkey="5V1", coldkey="5C1", role=Role.VALIDATOR)
    chain.add_stake(hotkey="5V1", amount=2000)
    chain.register(hotkey="5V2", coldkey="5C2", role=Role.VALIDATOR)
    chain.register(hotkey="5M1", coldkey="5C3", role=Role.MINER)
    KnownValidatorFactory(hotkey="5Gone")
    KnownValidatorFactory(hotkey="5V2", coldkey="old", stake=50)
    assert validators_sync_from_chain() == 2
    assert sorted(KnownValidator.objects.values_list("hotkey", "coldkey", "stake")) == [
        ("5V1", "5C1", 2000),
        ("5V2", "5C2", 0),
    ]
    assert validator_refusal("5V1") is None
    assert "stake 0" in validator_refusal("5V2")
    assert "not a validator" in validator_refusal("5M1")
    assert "not a validator" in validator_refusal("5Gone")
