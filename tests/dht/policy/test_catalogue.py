"""The catalogue namespace: only the subnet owner's signed catalogue, for this netuid, never older
than the newest a node has seen, within the size limit."""

import time
from datetime import UTC, datetime

import pytest

from dht.engine.config import DhtConfig
from dht.engine.interfaces import Rejected, StakeInfo
from dht.engine.records import record_sign
from dht.policy.namespaces import catalogue_key, default_namespaces
from dht.policy.stake import StaticStakeSource
from dht.policy.validation import validator_chain
from protocol.catalogue import Catalogue, CatalogueClass, catalogue_sign


def _catalogue(version: int, *, netuid: int = 1, classes: int = 1, price: str = "0.001") -> Catalogue:
    rows = [
        CatalogueClass(name=f"cpu.c{i}", cpus=1, memory_mb=512, pids=64, output_mb=16, price_per_second=price, weight=1)
        for i in range(classes)
    ]
    return Catalogue(netuid=netuid, version=version, issued_at=datetime.now(tz=UTC), classes=rows)


@pytest.fixture
def setup(make_hotkey):
    owner, other = make_hotkey(), make_hotkey()
    stake = StaticStakeSource({k.ss58: StakeInfo(stake=0, role="validator") for k in (owner, other)})
    namespaces = default_namespaces(heartbeat_ttl_s=300, scores_ttl_s=600, min_validator_stake=1)
    config = DhtConfig(min_owner_stake=100, max_value_bytes=8192)

    def chain(owner_ss58=owner.ss58):
        return validator_chain(stake=stake, namespaces=namespaces, config=config, catalogue_owner=owner_ss58, netuid=1)

    return owner, other, chain


def _record(*, putter, signer, catalogue, key=None):
    value = catalogue_sign(catalogue=catalogue, hotkey=signer).model_dump(mode="json")
    return record_sign(hotkey=putter, key=key or catalogue_key(catalogue.netuid), value=value, expires=time.time() + 60)


async def _reason(chain, record) -> str:
    """The rejection reason, "" when the record is accepted."""
    try:
        await chain.validate(record, time.time())
    except Rejected as exc:
        return exc.reason
    return ""


async def test_the_owners_catalogue_is_accepted_without_stake(setup):
    owner, _other, chain = setup
    assert await _reason(chain(), _record(putter=owner, signer=owner, catalogue=_catalogue(1))) == ""


async def test_anything_the_owner_did_not_both_put_and_sign_is_refused(setup):
    owner, other, chain = setup
    judge = chain()
    put_by_other = _record(putter=other, signer=owner, catalogue=_catalogue(1))
    signed_by_other = _record(putter=owner, signer=other, catalogue=_catalogue(1))
    assert await _reason(judge, put_by_other) == "catalogue: record not put by the subnet owner"
    assert (await _reason(judge, signed_by_other)).startswith("catalogue: wrong_owner")
    tampered = _record(putter=owner, signer=owner, catalogue=_catalogue(1))
    value = dict(tampered.value)
    value["catalogue"] = _catalogue(9).model_dump(mode="json")
    resigned = record_sign(hotkey=owner, key=tampered.key, value=value, expires=tampered.expires)
    assert (await _reason(judge, resigned)).startswith("catalogue: bad_signature")


async def test_another_subnet_and_an_unconfigured_owner_are_refused(setup):
    owner, _other, chain = setup
    foreign = _record(putter=owner, signer=owner, catalogue=_catalogue(1, netuid=2))
    assert (await _reason(chain(), foreign)).startswith("catalogue: not this subnet's key")
    mislabelled = _record(putter=owner, signer=owner, catalogue=_catalogue(1, netuid=2), key=catalogue_key(1))
    assert (await _reason(chain(), mislabelled)).startswith("catalogue: wrong_netuid")
    good = _record(putter=owner, signer=owner, catalogue=_catalogue(1))
    assert await _reason(chain(owner_ss58=""), good) == "catalogue: no subnet owner configured"


async def test_an_older_or_conflicting_version_is_refused_a_refresh_is_not(setup):
    owner, _other, chain = setup
    judge = chain()
    v2 = _catalogue(2)
    assert await _reason(judge, _record(putter=owner, signer=owner, catalogue=v2)) == ""
    # The owner re-putting the same catalogue (fresh expiry) still passes.
    assert await _reason(judge, _record(putter=owner, signer=owner, catalogue=v2)) == ""
    old = _record(putter=owner, signer=owner, catalogue=_catalogue(1))
    assert await _reason(judge, old) == "catalogue: version 1 is not newer than the held 2"
    fork = _record(putter=owner, signer=owner, catalogue=_catalogue(2, price="9"))
    assert await _reason(judge, fork) == "catalogue: version 2 is not newer than the held 2"
    assert await _reason(judge, _record(putter=owner, signer=owner, catalogue=_catalogue(3))) == ""


async def test_a_catalogue_over_the_value_size_limit_is_refused(setup):
    owner, _other, chain = setup
    big = _record(putter=owner, signer=owner, catalogue=_catalogue(1, classes=60))
    assert await _reason(chain(), big) == "value exceeds 8192 bytes"
