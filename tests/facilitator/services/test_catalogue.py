"""catalogue_offer_apply on its own: what it returns, and the node that is itself the owner (its
table is the source, so no offer overrides it). The channel tests cover the refusals end to end."""

import pytest

from executor.models import ExecutorClass
from executor.selectors import catalogue_state_get
from executor.services.catalogue import catalogue_build
from facilitator.services.catalogue import STALE, CatalogueOfferRefused, catalogue_offer_apply
from protocol.catalogue import CatalogueRejection, catalogue_sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(settings, make_hotkey, executor_classes):
    hotkey = make_hotkey()
    settings.SUBNET_OWNER_HOTKEY = hotkey.ss58
    return hotkey


def _without_large(signer, *, version: int):
    catalogue = catalogue_build(version=version)
    catalogue = catalogue.model_copy(update={"classes": [c for c in catalogue.classes if c.name != "cpu.large"]})
    return catalogue_sign(catalogue=catalogue, hotkey=signer)


def _active() -> list[str]:
    return list(ExecutorClass.objects.filter(is_active=True).order_by("name").values_list("name", flat=True))


def test_a_newer_catalogue_is_applied_and_its_version_returned(owner):
    envelope = _without_large(owner, version=3)
    assert catalogue_offer_apply(envelope=envelope, validator_hotkey="5V") == 3
    assert _active() == ["cpu.small"]
    assert catalogue_offer_apply(envelope=envelope, validator_hotkey="5W") is None  # the same, from another
    with pytest.raises(CatalogueOfferRefused) as info:
        catalogue_offer_apply(envelope=_without_large(owner, version=2), validator_hotkey="5V")
    assert (info.value.reason, info.value.detail) == (STALE, "version 2 is not newer than the applied version 3")


def test_a_refusal_carries_the_verification_reason(owner, make_hotkey):
    with pytest.raises(CatalogueOfferRefused) as info:
        catalogue_offer_apply(envelope=_without_large(make_hotkey(), version=1), validator_hotkey="5V")
    assert info.value.reason == CatalogueRejection.WRONG_OWNER
    assert catalogue_state_get().version == 0


def test_the_owners_own_node_ignores_offers(settings, node_key, executor_classes):
    settings.SUBNET_OWNER_HOTKEY = node_key.ss58
    assert catalogue_offer_apply(envelope=_without_large(node_key, version=9), validator_hotkey="5V") is None
    assert _active() == ["cpu.large", "cpu.small"]
    assert catalogue_state_get().version == 0
