import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from chain.interface import Role
from chain.local import LocalChain
from tests.validator.factories import MinerFactory, MinerIncidentFactory
from validator.models import Miner, MinerIncident
from validator.services.miners import miner_incident_record, miners_for_job, miners_sync_from_chain

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(settings) -> LocalChain:
    settings.CHAIN = "local"
    return LocalChain()


def _register(chain, hotkey, *, role=Role.MINER, address=None, stake=0):
    chain.register(hotkey=hotkey, coldkey=f"cold-{hotkey}", role=role)
    if address:
        chain.serve(hotkey=hotkey, address=address)
    if stake:
        chain.add_stake(hotkey=hotkey, amount=stake)


def test_sync_copies_the_chains_miners(chain):
    _register(chain, "5M1", address="127.0.0.1:8001", stake=7)
    _register(chain, "5M2")
    _register(chain, "5V1", role=Role.VALIDATOR, address="127.0.0.1:9000")
    assert miners_sync_from_chain() == 2
    rows = {m.hotkey: m for m in Miner.objects.all()}
    assert set(rows) == {"5M1", "5M2"}
    m1 = rows["5M1"]
    assert (m1.coldkey, m1.uid, m1.address, m1.stake, m1.is_active) == ("cold-5M1", 0, "127.0.0.1:8001", 7, True)
    assert (rows["5M2"].address, rows["5M2"].uid) == ("", 1)


def test_sync_follows_changes_and_deactivates_vanished_miners(chain):
    _register(chain, "5M1", address="127.0.0.1:8001")
    MinerFactory(hotkey="5Gone", address="127.0.0.1:7000")
    miners_sync_from_chain()
    chain.serve(hotkey="5M1", address="10.0.0.1:8001")
    miners_sync_from_chain()
    assert Miner.objects.get(hotkey="5M1").address == "10.0.0.1:8001"
    gone = Miner.objects.get(hotkey="5Gone")
    assert gone.is_active is False
    # A miner that comes back is active again, with its incidents kept.
    MinerIncidentFactory(miner=gone)
    _register(chain, "5Gone", address="127.0.0.1:7000")
    miners_sync_from_chain()
    gone.refresh_from_db()
    assert gone.is_active is True
    assert gone.incidents.count() == 1


def test_sync_of_an_empty_chain_deactivates_everyone(chain):
    MinerFactory.create_batch(2)
    assert miners_sync_from_chain() == 0
    assert not Miner.objects.filter(is_active=True).exists()


def test_miners_for_job_only_active_reachable_and_not_excluded(db):
    good = MinerFactory()
    MinerFactory(is_active=False)
    MinerFactory(address="")
    excluded = MinerFactory()
    assert [m.hotkey for m in miners_for_job(exclude={excluded.hotkey})] == [good.hotkey]
    assert {m.hotkey for m in miners_for_job(exclude=set())} == {good.hotkey, excluded.hotkey}


def test_miners_for_job_puts_recent_incidents_last(db):
    reliable = MinerFactory()
    flaky = MinerFactory()
    flakier = MinerFactory()
    MinerIncidentFactory(miner=flaky)
    MinerIncidentFactory.create_batch(3, miner=flakier)
    for _ in range(5):  # ties are shuffled, but the order by incidents is fixed
        order = [m.hotkey for m in miners_for_job(exclude=set())]
        assert order == [reliable.hotkey, flaky.hotkey, flakier.hotkey]
    assert [m.recent for m in miners_for_job(exclude=set())] == [0, 1, 3]


def test_old_incidents_are_forgiven(db):
    flaky = MinerFactory()
    other = MinerFactory()
    MinerIncidentFactory(miner=other)
    with time_machine.travel(timezone.now() - timedelta(hours=2)):
        MinerIncidentFactory.create_batch(5, miner=flaky)
    assert [m.recent for m in miners_for_job(exclude=set()) if m.pk == flaky.pk] == [0]
    assert miners_for_job(exclude=set())[0].hotkey == flaky.hotkey


def test_ties_are_shuffled(db):
    miners = MinerFactory.create_batch(4)
    firsts = {miners_for_job(exclude=set())[0].hotkey for _ in range(40)}
    assert len(firsts) > 1
    assert firsts <= {m.hotkey for m in miners}


def test_incident_record(db):
    miner = MinerFactory()
    job = str(uuid.uuid4())
    miner_incident_record(hotkey=miner.hotkey, job_uuid=job, reason="r" * 100)
    incident = MinerIncident.objects.get()
    assert (incident.miner, str(incident.job_uuid), incident.reason) == (miner, job, "r" * 64)
    miner_incident_record(hotkey="5Unknown", job_uuid=job, reason="lost")
    assert MinerIncident.objects.count() == 1


def _heartbeat(hotkey: str, *, age_s: float = 1.0, state: str = "ONLINE", addresses=("10.0.0.9:8001",)):
    from datetime import timedelta

    from django.utils import timezone

    from dht.models import NodeHeartbeat

    now = timezone.now()
    NodeHeartbeat.objects.create(
        holder="5Holder",
        hotkey=hotkey,
        role="miner",
        state=state,
        version="0.1.0",
        addresses=list(addresses),
        published_at=now - timedelta(seconds=age_s),
        expires_at=now + timedelta(seconds=300),
    )


def test_with_heartbeats_required_only_miners_alive_in_the_dht_are_routed(settings):
    from validator.models import Miner
    from validator.services.miners import miners_for_job

    settings.DHT_ROUTE_REQUIRE_HEARTBEAT = True
    settings.DHT_HEARTBEAT_LAPSE_S = 20
    for hotkey in ("5Alive", "5Lapsed", "5Offline", "5Silent"):
        Miner.objects.create(hotkey=hotkey, address=f"127.0.0.1:{len(hotkey)}", stake=1)
    _heartbeat("5Alive")
    _heartbeat("5Lapsed", age_s=60)
    _heartbeat("5Offline", state="OFFLINE")

    assert [m.hotkey for m in miners_for_job(exclude=set())] == ["5Alive"]


def test_a_miner_without_a_chain_address_is_reached_at_its_heartbeat_address(settings):
    from validator.models import Miner
    from validator.services.miners import miners_for_job

    settings.DHT_ROUTE_REQUIRE_HEARTBEAT = True
    Miner.objects.create(hotkey="5Natted", address="", stake=1)
    Miner.objects.create(hotkey="5Unknown", address="", stake=1)
    _heartbeat("5Natted", addresses=("192.0.2.7:8001",))

    assert [(m.hotkey, m.address) for m in miners_for_job(exclude=set())] == [("5Natted", "192.0.2.7:8001")]
