import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from chain.interface import Role
from chain.local import LocalChain
from tests.factories import MinerFactory, MinerIncidentFactory
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
