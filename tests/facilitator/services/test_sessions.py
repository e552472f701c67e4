import uuid

import pytest

from facilitator.selectors import validator_sessions_live
from facilitator.services.dispatch import jobs_dispatch_pending
from facilitator.services.sessions import validator_session_close, validator_session_open
from tests.facilitator.factories import facilitator_job
from tests.facilitator.services.test_dispatch import _drain

pytestmark = pytest.mark.django_db


def test_a_new_link_supersedes_a_dead_one_whose_close_never_ran():
    dead = validator_session_open(hotkey="5Validator", channel_name="dead")  # its disconnect was lost
    other = validator_session_open(hotkey="5Other", channel_name="other")
    new = validator_session_open(hotkey="5Validator", channel_name="new")
    assert set(validator_sessions_live()) == {new, other}
    dead.refresh_from_db()
    assert dead.disconnected_at is not None


def test_the_superseded_links_late_close_leaves_the_new_one_open():
    validator_session_open(hotkey="5Validator", channel_name="old")
    new = validator_session_open(hotkey="5Validator", channel_name="new")
    validator_session_close(channel_name="old")
    assert validator_sessions_live(hotkey="5Validator") == [new]


def test_jobs_are_routed_to_the_new_link_only(funded_user, django_capture_on_commit_callbacks):
    dead = f"test-dead-{uuid.uuid4().hex}"
    validator_session_open(hotkey="5Validator", channel_name=dead)
    jobs = [facilitator_job(user=funded_user, status="pending") for _ in range(4)]
    live = f"test-validator-{uuid.uuid4().hex}"
    validator_session_open(hotkey="5Validator", channel_name=live)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_dispatch_pending() == len(jobs)
    assert {frame["job_uuid"] for frame in _drain(live)} == {str(job.uuid) for job in jobs}
    assert _drain(dead, wait=0.1) == []
