"""The signed catalogue: only the subnet owner's signature over this netuid's catalogue verifies."""

from datetime import UTC, datetime

import pytest

from protocol.catalogue import (
    Catalogue,
    CatalogueClass,
    CatalogueError,
    CatalogueRejection,
    catalogue_digest,
    catalogue_sign,
    catalogue_verify,
)


def _class(name: str = "gpu.a100", **fields) -> CatalogueClass:
    base: dict = {
        "cpus": 8.0,
        "memory_mb": 65536,
        "pids": 1024,
        "output_mb": 1024,
        "price_per_second": "0.05",
        "weight": 8,
    }
    return CatalogueClass(name=name, gpu_count=1, gpu_model="A100", reference_seconds={"matmul": 2.5}, **base | fields)


def _catalogue(version: int = 1, netuid: int = 7) -> Catalogue:
    issued = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    return Catalogue(netuid=netuid, version=version, issued_at=issued, classes=[_class(), _class("cpu.small")])


def _rejection(**kwargs) -> CatalogueError:
    with pytest.raises(CatalogueError) as info:
        catalogue_verify(**kwargs)
    return info.value


def test_a_signed_catalogue_verifies_from_its_json(make_hotkey):
    owner = make_hotkey()
    envelope = catalogue_sign(catalogue=_catalogue(), hotkey=owner)
    wire = envelope.model_dump(mode="json")
    assert catalogue_verify(envelope=wire, owner_ss58=owner.ss58, netuid=7) == _catalogue()
    assert catalogue_verify(envelope=envelope, owner_ss58=owner.ss58) == _catalogue()


def test_tampering_with_any_field_breaks_the_signature(make_hotkey):
    owner = make_hotkey("ed25519")
    wire = catalogue_sign(catalogue=_catalogue(), hotkey=owner).model_dump(mode="json")
    wire["catalogue"]["classes"][0]["price_per_second"] = "0.0001"
    error = _rejection(envelope=wire, owner_ss58=owner.ss58, netuid=7)
    assert error.reason is CatalogueRejection.BAD_SIGNATURE


def test_a_catalogue_signed_by_another_key_is_refused(make_hotkey):
    owner, other = make_hotkey(), make_hotkey()
    envelope = catalogue_sign(catalogue=_catalogue(), hotkey=other)
    assert _rejection(envelope=envelope, owner_ss58=owner.ss58).reason is CatalogueRejection.WRONG_OWNER
    # Claiming the owner as signer does not help: the owner's key did not sign it.
    forged = envelope.model_copy(update={"signer": owner.ss58})
    assert _rejection(envelope=forged, owner_ss58=owner.ss58).reason is CatalogueRejection.BAD_SIGNATURE
    assert _rejection(envelope=envelope, owner_ss58="").reason is CatalogueRejection.WRONG_OWNER


def test_another_subnets_catalogue_is_refused(make_hotkey):
    owner = make_hotkey()
    envelope = catalogue_sign(catalogue=_catalogue(netuid=8), hotkey=owner)
    error = _rejection(envelope=envelope, owner_ss58=owner.ss58, netuid=7)
    assert (error.reason, error.detail) == (CatalogueRejection.WRONG_NETUID, "for netuid 8, not 7")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda w: w.pop("signature"),
        lambda w: w["catalogue"].update(version=0),
        lambda w: w["catalogue"]["classes"].append(dict(w["catalogue"]["classes"][0])),  # duplicate name
        lambda w: w["catalogue"]["classes"][0].update(price_per_second="-1"),
        lambda w: w["catalogue"]["classes"][0].update(price_per_second="NaN"),
        lambda w: w["catalogue"]["classes"][0].update(price_per_second="0.0000001"),
        lambda w: w["catalogue"]["classes"][0].update(cpus=0),
        lambda w: w["catalogue"]["classes"][0].update(extra=1),
        lambda w: w["catalogue"].update(classes=[w["catalogue"]["classes"][0]] * 257),
        lambda w: w["catalogue"].update(issued_at="2026-01-02T03:04:05"),  # naive
    ],
)
def test_malformed_envelopes_are_refused_with_the_field(make_hotkey, mutate):
    owner = make_hotkey()
    wire = catalogue_sign(catalogue=_catalogue(), hotkey=owner).model_dump(mode="json")
    mutate(wire)
    error = _rejection(envelope=wire, owner_ss58=owner.ss58)
    assert error.reason is CatalogueRejection.MALFORMED
    assert error.detail


def test_the_digest_changes_with_the_content_only():
    assert catalogue_digest(_catalogue()) == catalogue_digest(_catalogue())
    assert catalogue_digest(_catalogue(version=2)) != catalogue_digest(_catalogue())
    assert len(catalogue_digest(_catalogue())) == 64
