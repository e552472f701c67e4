"""The validator's own concepts: deadlines short enough for tests, and a scripted miner's key
with the validator's pool of links to miners."""

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from protocol.keys import Hotkey
from protocol.nonces import RedisNonceStore
from tests.factories import job_spec
from tests.validator.scripted_miner import SessionRun
from validator.miner_links import MinerLinks


@pytest.fixture
def fast_deadlines(settings: Any) -> None:
    """Stage and reservation deadlines in tenths of a second (apply with `pytest.mark.usefixtures`)."""
    settings.VALIDATOR_STAGE_LEEWAY_S = 0.5
    settings.VALIDATOR_RESERVE_TIMEOUT_S = 2.0
    settings.EXECUTOR_URL_FETCH_TIMEOUT_S = 0.5
    settings.VALIDATOR_MAX_ATTEMPTS = 3
    settings.VALIDATOR_QUEUE_TIMEOUT_S = 10
    settings.VALIDATOR_BUSY_WAIT_S = 0.3
    settings.VALIDATOR_RECEIPT_COUNTERSIGN_WAIT_S = 0.5


@pytest.fixture
def miner_key(make_hotkey: Callable[..., Hotkey]) -> Hotkey:
    """The identity a scripted miner serves with (and the validator dials)."""
    return make_hotkey()


@pytest.fixture
async def miner_links(make_hotkey: Callable[..., Hotkey], nonces: RedisNonceStore) -> AsyncIterator[MinerLinks]:
    """A validator's pool of links to miners, closed after the test."""
    pool = MinerLinks(hotkey=make_hotkey(), nonces=nonces)
    yield pool
    await pool.close_all()


@pytest.fixture
def run(miner_links: MinerLinks, miner_key: Hotkey) -> SessionRun:
    """One job's session (a 2 s cpu.small job) against a scripted miner registered here (receipts
    are filed under the miner's registry row; the test needs the database)."""
    from tests.validator.factories import MinerFactory  # models load after Django is set up

    MinerFactory.create(hotkey=miner_key.ss58)
    return SessionRun(miner_links, miner_key, job_spec(timeout_s=2))
