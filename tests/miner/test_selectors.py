"""Admission of validators (chain registration and stake as synced, then the admin's lists) and
the manifest a miner offers."""

import pytest
from constance import config as constance_config

from miner.models import AccessRule
from miner.selectors import executor_hosts_all, executor_manifest, validator_refusal
from tests.miner.factories import AccessRuleFactory, ExecutorHostFactory, ExecutorSlotFactory, KnownValidatorFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("min_validator_stake")]
HOTKEY, COLDKEY = AccessRule.Kind.HOTKEY, AccessRule.Kind.COLDKEY
BLACK, WHITE = AccessRule.List.BLACKLIST, AccessRule.List.WHITELIST


def _refused(hotkey: str) -> str:
    """The refusal for `hotkey`, which must be refused."""
    refusal = validator_refusal(hotkey)
    assert refusal is not None
    return refusal


def test_known_staked_validator_is_admitted():
    validator = KnownValidatorFactory.create(stake=1000)
    assert validator_refusal(validator.hotkey) is None


def test_unknown_validator_is_refused():
    assert validator_refusal("5Nobody") == "5Nobody is not a validator registered on subnet 1"


def test_under_staked_validator_is_refused():
    validator = KnownValidatorFactory.create(stake=999)
    assert validator_refusal(validator.hotkey) == f"{validator.hotkey} has stake 999 < minimum 1000"


def test_a_minimum_stake_raised_in_the_admin_refuses_a_validator_admitted_before():
    validator = KnownValidatorFactory.create(stake=1500)
    assert validator_refusal(validator.hotkey) is None
    constance_config.MIN_VALIDATOR_STAKE = 2000  # what the admin's constance page saves
    assert validator_refusal(validator.hotkey) == f"{validator.hotkey} has stake 1500 < minimum 2000"
    constance_config.MIN_VALIDATOR_STAKE = 1500
    assert validator_refusal(validator.hotkey) is None


def test_blacklisted_hotkey_is_refused():
    validator = KnownValidatorFactory.create()
    other = KnownValidatorFactory.create()
    AccessRuleFactory.create(kind=HOTKEY, list=BLACK, key=validator.hotkey)
    assert validator_refusal(validator.hotkey) == f"hotkey {validator.hotkey} is blacklisted"
    assert validator_refusal(other.hotkey) is None


def test_blacklisted_coldkey_refuses_all_its_hotkeys():
    a = KnownValidatorFactory.create(coldkey="5SharedCold")
    b = KnownValidatorFactory.create(coldkey="5SharedCold")
    c = KnownValidatorFactory.create()
    AccessRuleFactory.create(kind=COLDKEY, list=BLACK, key="5SharedCold")
    assert validator_refusal(a.hotkey) == "coldkey 5SharedCold is blacklisted"
    assert validator_refusal(b.hotkey) == "coldkey 5SharedCold is blacklisted"
    assert validator_refusal(c.hotkey) is None


def test_hotkey_whitelist_admits_only_listed_hotkeys():
    listed = KnownValidatorFactory.create()
    unlisted = KnownValidatorFactory.create()
    AccessRuleFactory.create(kind=HOTKEY, list=WHITE, key=listed.hotkey)
    assert validator_refusal(listed.hotkey) is None
    assert validator_refusal(unlisted.hotkey) == f"hotkey {unlisted.hotkey} is not on the whitelist"


def test_coldkey_whitelist_admits_only_listed_coldkeys():
    listed = KnownValidatorFactory.create(coldkey="5GoodCold")
    unlisted = KnownValidatorFactory.create()
    AccessRuleFactory.create(kind=COLDKEY, list=WHITE, key="5GoodCold")
    assert validator_refusal(listed.hotkey) is None
    assert validator_refusal(unlisted.hotkey) == f"coldkey {unlisted.coldkey} is not on the whitelist"


def test_a_hotkey_whitelist_does_not_restrict_coldkeys_and_both_must_pass():
    validator = KnownValidatorFactory.create(coldkey="5Cold")
    AccessRuleFactory.create(kind=HOTKEY, list=WHITE, key=validator.hotkey)
    AccessRuleFactory.create(kind=COLDKEY, list=BLACK, key="5Cold")
    assert validator_refusal(validator.hotkey) == "coldkey 5Cold is blacklisted"


def test_blacklist_wins_over_whitelist():
    validator = KnownValidatorFactory.create()
    AccessRuleFactory.create(kind=HOTKEY, list=WHITE, key=validator.hotkey)
    AccessRuleFactory.create(kind=HOTKEY, list=BLACK, key=validator.hotkey)
    assert "blacklisted" in _refused(validator.hotkey)


def test_lists_do_not_admit_an_unstaked_validator():
    validator = KnownValidatorFactory.create(stake=0)
    AccessRuleFactory.create(kind=HOTKEY, list=WHITE, key=validator.hotkey)
    assert "stake 0 < minimum 1000" in _refused(validator.hotkey)


def test_manifest_counts_executors_per_class_across_hosts():
    assert executor_manifest() == {}
    first, second = ExecutorHostFactory.create(), ExecutorHostFactory.create()
    ExecutorSlotFactory.create_batch(2, host=first, executor_class="cpu.small")
    ExecutorSlotFactory.create(host=second, executor_class="cpu.small")
    ExecutorSlotFactory.create(host=second, executor_class="cpu.large")
    assert executor_manifest() == {"cpu.small": 3, "cpu.large": 1}


def test_executor_hosts_all():
    assert executor_hosts_all() == []
    hosts = ExecutorHostFactory.create_batch(2)
    assert sorted(h.pk for h in executor_hosts_all()) == sorted(h.pk for h in hosts)
