"""The market's wire changes, all additive: a manifest's price floors (left out when none, so the
manifest and its digest are what they were), the decline reasons, share.subscribe/share.standing,
and the census's willingness figures (left out when unknown)."""

import json
import uuid
from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from protocol.messages.facilitator import ClassCensus
from protocol.messages.manifest import HostManifest, HostSpecs, ManifestMessage
from protocol.messages.miner import (
    ClassStanding,
    DeclineReason,
    JobDeclined,
    MinerToValidator,
    ShareStanding,
    ShareSubscribe,
    ValidatorToMiner,
)

HOST = HostManifest(name="h1", executors={"cpu.small": 2}, specs=HostSpecs(cpu_cores=2, memory_mb=1024, disk_mb=10))
BEFORE = '{"type":"miner.manifest","hosts":[{"name":"h1","executors":{"cpu.small":2},"specs":{"cpu_model":"","cpu_cores":2,"memory_mb":1024,"disk_mb":10,"gpus":[],"docker_engine_id":""}}]}'  # noqa: E501  (as sent before price floors)


def test_a_manifest_without_floors_is_byte_for_byte_what_it_was():
    assert ManifestMessage(hosts=[HOST]).model_dump_json() == BEFORE
    assert ManifestMessage(hosts=[HOST], price_floors={}).model_dump_json() == BEFORE
    assert ManifestMessage.model_validate_json(BEFORE).price_floors is None


def test_floors_round_trip_and_price_a_class_out():
    manifest = ManifestMessage(hosts=[HOST], price_floors={"cpu.small": "0.002"})
    wire = json.loads(manifest.model_dump_json())
    assert wire["price_floors"] == {"cpu.small": "0.002"}
    assert ManifestMessage.model_validate(wire) == manifest
    assert manifest.priced_out(executor_class="cpu.small", price=Decimal("0.0019"))
    assert not manifest.priced_out(executor_class="cpu.small", price=Decimal("0.002"))
    assert not manifest.priced_out(executor_class="cpu.large", price=Decimal(0))


@pytest.mark.parametrize("floor", ["-1", "abc", "0.0000001", "NaN", "Infinity"])
def test_a_malformed_floor_is_refused(floor):
    with pytest.raises(ValidationError):
        ManifestMessage(hosts=[HOST], price_floors={"cpu.small": floor})


def test_a_floor_for_a_malformed_class_name_is_refused():
    with pytest.raises(ValidationError):
        ManifestMessage(hosts=[HOST], price_floors={"CPU Small": "1"})


def test_the_new_decline_reasons_travel():
    for reason in (DeclineReason.UNPROFITABLE, DeclineReason.OVER_SHARE):
        declined = JobDeclined(job_uuid=uuid.UUID(int=1), reason=reason, detail="why")
        parsed = TypeAdapter(MinerToValidator).validate_json(declined.model_dump_json())
        assert parsed == declined
    assert (DeclineReason.UNPROFITABLE.value, DeclineReason.OVER_SHARE.value) == ("unprofitable", "over_share")


def test_share_messages_are_in_their_directions_unions():
    assert TypeAdapter(ValidatorToMiner).validate_json('{"type":"share.subscribe"}') == ShareSubscribe()
    standing = ShareStanding(classes=[ClassStanding(executor_class="cpu.small", entitled=3, in_use=1, total=4)])
    assert TypeAdapter(MinerToValidator).validate_json(standing.model_dump_json()) == standing
    with pytest.raises(ValidationError):
        TypeAdapter(MinerToValidator).validate_json('{"type":"share.subscribe"}')  # validator → miner only


@pytest.mark.parametrize(
    "bad",
    [
        {"executor_class": "", "entitled": 0, "in_use": 0, "total": 0},
        {"executor_class": "cpu.small", "entitled": -1, "in_use": 0, "total": 0},
        {"executor_class": "cpu.small", "entitled": 0, "in_use": 0, "total": 10**9},
        {"executor_class": "cpu.small", "entitled": 0, "in_use": 0, "total": 0, "extra": 1},
    ],
)
def test_a_malformed_standing_is_refused(bad):
    with pytest.raises(ValidationError):
        ShareStanding.model_validate({"type": "share.standing", "classes": [bad]})


def test_census_willingness_is_left_out_when_unknown():
    plain = ClassCensus(executor_class="cpu.small", miners=1, claimed=2, verified=2)
    assert plain.model_dump(mode="json") == {"executor_class": "cpu.small", "miners": 1, "claimed": 2, "verified": 2}
    willing = plain.model_copy(update={"willing_miners": 1, "willing_executors": 2})
    assert ClassCensus.model_validate(willing.model_dump(mode="json")) == willing
    with pytest.raises(ValidationError):
        ClassCensus(executor_class="cpu.small", miners=1, claimed=2, verified=2, willing_executors=-1)
