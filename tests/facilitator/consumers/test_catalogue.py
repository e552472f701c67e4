"""catalogue.offer over the real validator channel: an owner-signed, newer catalogue becomes the
facilitator's class table (what its REST API accepts and charges); stale, forged and foreign ones
are refused with a typed error and change nothing; without SUBNET_OWNER_HOTKEY offers are ignored."""

import json
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import cache
from rest_framework.test import APIClient

import facilitator.services.catalogue
from executor.models import ExecutorClass
from executor.selectors import catalogue_state_get
from executor.services.catalogue import catalogue_build
from protocol.catalogue import SignedCatalogue, catalogue_sign
from protocol.messages.facilitator import CatalogueOffer
from tests.facilitator.consumers.channel import channel_connect, db, error_frame, eventually
from tests.facilitator.factories import TokenFactory


@pytest.fixture
def owner(settings, make_hotkey):
    """The subnet owner's key: someone other than the facilitator (which is `node_key`)."""
    hotkey = make_hotkey()
    settings.SUBNET_OWNER_HOTKEY = hotkey.ss58
    return hotkey


def _signed(signer, *, version: int, netuid: int = 1, small_price: str = "0.002000") -> SignedCatalogue:
    """The seeded table as `version` with cpu.small repriced and cpu.large dropped."""
    catalogue = catalogue_build(version=version, netuid=netuid)
    small = next(c for c in catalogue.classes if c.name == "cpu.small")
    catalogue = catalogue.model_copy(update={"classes": [small.model_copy(update={"price_per_second": small_price})]})
    return catalogue_sign(catalogue=catalogue, hotkey=signer)


def _offer(envelope: SignedCatalogue) -> str:
    return CatalogueOffer(envelope=envelope).model_dump_json()


def _table() -> dict[str, tuple[bool, Decimal]]:
    return {c.name: (c.is_active, c.price_per_second) for c in ExecutorClass.objects.order_by("name")}


SEEDED_TABLE = {"cpu.large": (True, Decimal("0.004")), "cpu.small": (True, Decimal("0.001"))}
APPLIED_TABLE = {"cpu.large": (False, Decimal("0.004")), "cpu.small": (True, Decimal("0.002"))}


def _post_jobs(user, *executor_classes: str) -> list:
    """A job of each class submitted over the REST API as `user`; the responses."""
    cache.clear()  # the user-rate throttle counts in the cache
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory.create(user=user).key}")
    body = {"image": "meshwork/job-python:3.11", "args": ["true"]}
    return [client.post("/api/v1/jobs/", {**body, "executor_class": name}, format="json") for name in executor_classes]


@db
async def test_an_owner_signed_offer_becomes_the_class_table(registered_validator_key, node_key, owner, funded_user):
    envelope = await sync_to_async(_signed)(owner, version=1)
    comm, _, _ = await channel_connect(registered_validator_key, node_key.ss58)
    await comm.send_to(text_data=_offer(envelope))
    assert await eventually(lambda: catalogue_state_get().version == 1)
    assert await comm.receive_nothing(timeout=0.2)  # accepted: no reply
    state = await sync_to_async(catalogue_state_get)()
    assert (state.owner, state.envelope) == (owner.ss58, envelope.model_dump(mode="json"))
    assert await sync_to_async(_table)() == APPLIED_TABLE

    # The class the catalogue dropped is refused to users; the repriced one is what jobs cost.
    dropped, kept = await sync_to_async(_post_jobs)(funded_user, "cpu.large", "cpu.small")
    assert dropped.status_code == 400
    assert dropped.json() == {"executor_class": ["unknown executor class 'cpu.large'; see /api/v1/executor-classes/"]}
    assert (kept.status_code, kept.json()["executor_class"]) == (201, "cpu.small")
    await comm.disconnect()


@db
async def test_a_stale_offer_changes_nothing_and_the_same_one_again_is_no_news(
    registered_validator_key, node_key, owner, json_log
):
    newer = await sync_to_async(_signed)(owner, version=2)
    older = await sync_to_async(_signed)(owner, version=1, small_price="0.009000")
    rival = await sync_to_async(_signed)(owner, version=2, small_price="0.009000")
    comm, _, _ = await channel_connect(registered_validator_key, node_key.ss58)
    await comm.send_to(text_data=_offer(newer))
    assert await eventually(lambda: catalogue_state_get().version == 2)

    await comm.send_to(text_data=_offer(newer))  # what every other validator also offers
    assert await comm.receive_nothing(timeout=0.2)
    for stale in (older, rival):  # an older version, or another catalogue under the same version
        await comm.send_to(text_data=_offer(stale))
        error = await error_frame(comm)
        assert error["code"] == "refused"
        assert error["detail"].startswith(f"catalogue.offer: stale: version {stale.catalogue.version} is not newer")
    assert await sync_to_async(_table)() == APPLIED_TABLE
    assert (await sync_to_async(catalogue_state_get)()).envelope == newer.model_dump(mode="json")
    refusals = [line for line in json_log() if line["event"].startswith("catalogue: refused the offer")]
    assert len(refusals) == 2
    assert all(registered_validator_key.ss58 in line["event"] for line in refusals)
    await comm.disconnect()


def _forged(owner, make_hotkey, kind: str) -> SignedCatalogue:
    if kind == "wrong_owner":  # a validator signing its own catalogue
        return _signed(make_hotkey(), version=5)
    if kind == "bad_signature":  # the owner's signature over another catalogue
        genuine = _signed(owner, version=5)
        return genuine.model_copy(update={"catalogue": _signed(owner, version=5, small_price="0").catalogue})
    return _signed(owner, version=5, netuid=7)  # the owner's catalogue of another subnet


@db
@pytest.mark.parametrize("kind", ["wrong_owner", "bad_signature", "wrong_netuid"])
async def test_a_forged_or_foreign_offer_is_refused_with_a_typed_error(
    registered_validator_key, node_key, owner, make_hotkey, json_log, kind
):
    forged = await sync_to_async(_forged)(owner, make_hotkey, kind)
    comm, _, _ = await channel_connect(registered_validator_key, node_key.ss58)
    await comm.send_to(text_data=_offer(forged))
    error = await error_frame(comm)
    assert error["code"] == "refused"
    assert error["detail"].startswith(f"catalogue.offer: {kind}: ")
    assert await sync_to_async(_table)() == SEEDED_TABLE
    assert (await sync_to_async(catalogue_state_get)()).version == 0
    assert any(f"refused the offer of {registered_validator_key.ss58}: {kind}" in line["event"] for line in json_log())

    # The link keeps serving: the owner's genuine catalogue is applied after the forgery.
    await comm.send_to(text_data=_offer(await sync_to_async(_signed)(owner, version=1)))
    assert await eventually(lambda: catalogue_state_get().version == 1)
    await comm.disconnect()


@db
async def test_a_malformed_offer_is_a_malformed_frame(registered_validator_key, node_key, owner):
    envelope = (await sync_to_async(_signed)(owner, version=1)).model_dump(mode="json")
    envelope["catalogue"]["classes"][0]["price_per_second"] = "-1"
    comm, _, _ = await channel_connect(registered_validator_key, node_key.ss58)
    await comm.send_to(text_data=json.dumps({"type": "catalogue.offer", "envelope": envelope}))
    error = await error_frame(comm)
    assert error["code"] == "malformed"
    assert "price_per_second" in error["detail"]
    assert (await sync_to_async(catalogue_state_get)()).version == 0
    await comm.disconnect()


@db
async def test_without_an_owner_offers_are_ignored_and_that_is_logged_once(
    registered_validator_key, node_key, settings, make_hotkey, json_log
):
    facilitator.services.catalogue._log_no_owner.cache_clear()
    settings.SUBNET_OWNER_HOTKEY = ""
    envelope = await sync_to_async(_signed)(make_hotkey(), version=1)
    comm, _, _ = await channel_connect(registered_validator_key, node_key.ss58)
    for _ in range(2):
        await comm.send_to(text_data=_offer(envelope))
    assert await comm.receive_nothing(timeout=0.3)
    assert await sync_to_async(_table)() == SEEDED_TABLE
    assert (await sync_to_async(catalogue_state_get)()).version == 0
    assert sum("SUBNET_OWNER_HOTKEY is not set" in line["event"] for line in json_log()) == 1
    await comm.disconnect()
