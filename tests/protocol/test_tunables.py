"""Runtime-tunable parameters: the admin's saved value wins over the setting, at once in the process
that saved it and within TUNABLES_REFRESH_S elsewhere; reads from an event loop work; a database
outage keeps the values in force."""

import asyncio
import time

import pytest
from constance import config as constance_config
from constance.codecs import dumps
from constance.models import Constance
from django.db import OperationalError

from protocol import tunables
from protocol.tunables import UnknownTunable, tunable, tunables_forget

pytestmark = pytest.mark.django_db


def test_a_parameter_never_edited_follows_its_setting(settings):
    settings.VALIDATOR_DEADLINE_FACTOR = 3.25
    assert tunable("VALIDATOR_DEADLINE_FACTOR") == 3.25


def test_a_saved_value_wins_at_once_in_the_saving_process(settings):
    settings.VALIDATOR_CYCLE_S = 120.0
    constance_config.VALIDATOR_CYCLE_S = 45.0
    assert tunable("VALIDATOR_CYCLE_S") == 45.0


def test_the_allowlist_is_a_list_of_trimmed_entries():
    constance_config.MINER_IMAGE_ALLOWLIST = " meshwork/* ,alpine:3.19,, "
    assert tunable("MINER_IMAGE_ALLOWLIST") == ["meshwork/*", "alpine:3.19"]


def test_another_process_s_save_is_seen_after_the_refresh(settings):
    """A row written behind this process's back (another process's save sends its signal there)."""
    settings.TUNABLES_REFRESH_S = 0.2
    settings.EXECUTOR_MAX_LOG_BYTES = 1000
    tunables_forget()
    assert tunable("EXECUTOR_MAX_LOG_BYTES") == 1000
    Constance.objects.create(key="EXECUTOR_MAX_LOG_BYTES", value=dumps(2000))
    assert tunable("EXECUTOR_MAX_LOG_BYTES") == 1000  # the snapshot is younger than the refresh
    time.sleep(0.25)
    assert tunable("EXECUTOR_MAX_LOG_BYTES") == 2000


def test_a_database_outage_keeps_the_values_in_force(settings, monkeypatch):
    settings.TUNABLES_REFRESH_S = 0.0
    constance_config.VALIDATOR_QUEUE_TIMEOUT_S = 33.0
    assert tunable("VALIDATOR_QUEUE_TIMEOUT_S") == 33.0

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(Constance.objects, "filter", down)
    assert tunable("VALIDATOR_QUEUE_TIMEOUT_S") == 33.0  # not the setting's 600


def test_an_unknown_name_is_a_typed_error():
    with pytest.raises(UnknownTunable, match="NOT_A_KNOB is not a runtime-tunable parameter"):
        tunable("NOT_A_KNOB")


@pytest.mark.django_db(transaction=True)
def test_reads_from_an_event_loop_see_the_saved_value(settings):
    """The validator's sessions read deadlines inside its loop: the ORM runs in a worker thread."""
    constance_config.VALIDATOR_STAGE_LEEWAY_S = 7.5
    tunables_forget()  # the next read, inside the loop, goes to the database

    async def read() -> float:
        return float(tunable("VALIDATOR_STAGE_LEEWAY_S"))

    assert asyncio.run(read()) == 7.5
    assert tunables._snapshot.values["VALIDATOR_STAGE_LEEWAY_S"] == 7.5
