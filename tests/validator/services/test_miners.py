"""The miner registry: synced from the chain; incidents blamed on miners."""

import uuid

import pytest

from chain.interface import Role
from tests.validator.factories import MinerFactory, MinerIncidentFactory
from validator.models import Miner, MinerIncident
from validator.services.miners import miner_incident_record, miners_sync_from_chain

pytestmark = pytest.mark.django_db


def _register(local_chain, hotkey, *, role=Role.MINER, address=None, stake=0):
    local_chain.register(hotkey=hotkey, coldkey=f"cold-{hotkey}", role=role)
    if address:
        local_chain.serve(hotkey=hotkey, address=address)
    if stake:
        local_chain.add_stake(hotkey=hotkey, amount=stake)


def test_sync_copies_the_chains_miners(local_chain):
    _register(local_chain, "5M1", address="127.0.0.1:8001", stake=7)
    _register(local_chain, "5M2")
    _register(local_chain, "5V1", role=Role.VALIDATOR, address="127.0.0.1:9000")
    assert miners_sync_from_chain() == 2
    rows = {m.hotkey: m for m in Miner.objects.all()}
    assert set(rows) == {"5M1", "5M2"}
    m1 = rows["5M1"]
    assert (m1.coldkey, m1.uid, m1.address, m1.stake, m1.is_active) == ("cold-5M1", 0, "127.0.0.1:8001", 7, True)
    assert (rows["5M2"].address, rows["5M2"].uid) == ("", 1)


def test_sync_follows_changes_and_deactivates_vanished_miners(local_chain):
    _register(local_chain, "5M1", address="127.0.0.1:8001")
    MinerFactory.create(hotkey="5Gone", address="127.0.0.1:7000")
    miners_sync_from_chain()
    local_chain.serve(hotkey="5M1", address="10.0.0.1:8001")
    miners_sync_from_chain()
    assert Miner.objects.get(hotkey="5M1").address == "10.0.0.1:8001"
    gone = Miner.objects.get(hotkey="5Gone")
    assert gone.is_active is False
    # A miner that comes back is active again, with its incidents kept.
    MinerIncidentFactory.create(miner=gone)
    _register(local_chain, "5Gone", address="127.0.0.1:7000")
    miners_sync_from_chain()
    gone.refresh_from_db()
    assert gone.is_active is True
    assert gone.incidents.count() == 1


def test_sync_of_an_empty_chain_deactivates_everyone(local_chain):
    MinerFactory.create_batch(2)
    assert miners_sync_from_chain() == 0
    assert not Miner.objects.filter(is_active=True).exists()


def test_incident_record(db):
    miner = MinerFactory.create()
    job = str(uuid.uuid4())
    miner_incident_record(hotkey=miner.hotkey, job_uuid=job, reason="r" * 100)
    incident = MinerIncident.objects.get()
    assert (incident.miner, str(incident.job_uuid), incident.reason) == (miner, job, "r" * 64)
    miner_incident_record(hotkey="5Unknown", job_uuid=job, reason="lost")
    assert MinerIncident.objects.count() == 1
