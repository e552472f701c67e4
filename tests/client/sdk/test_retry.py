"""The SDK against a misbehaving server: what it retries, how long it waits, when it gives up,
and that it never sends a job submission twice once it may have been applied."""

import time
from datetime import UTC, datetime

import pytest

from client.sdk import (
    ApiError,
    MeshworkClient,
    OutcomeUnknown,
    RateLimited,
    RetryPolicy,
    ServerError,
    UnexpectedResponse,
    Unreachable,
)
from client.sdk.retry import retry_after_s
from tests.client.conftest import Reply, ScriptedServer, Sleeps, free_port, job_body, quick_policy

JOB = job_body()
JOB_PATH = f"/api/v1/jobs/{JOB['uuid']}/"


def client(url: str, sleeps: Sleeps, **kwargs) -> MeshworkClient:
    return MeshworkClient(url, "token", retry=quick_policy(sleeps, **kwargs), timeout_s=5)


def test_429_waits_the_servers_retry_after_then_succeeds(scripted):
    server = scripted([Reply(429, {"detail": "slow down"}, {"Retry-After": "1"}), Reply(200, JOB)])
    started = time.monotonic()
    with MeshworkClient(server.url, "token") as sdk:  # the real policy, really sleeping
        job = sdk.job(JOB["uuid"])
    assert str(job.uuid) == JOB["uuid"]
    assert [s.path for s in server.seen] == [JOB_PATH, JOB_PATH]
    assert time.monotonic() - started >= 1.0


def test_429_on_a_submission_is_retried_the_throttle_refused_it_before_any_view(scripted):
    sleeps = Sleeps()
    server = scripted([Reply(429, {"detail": "slow down"}, {"Retry-After": "2"}), Reply(201, JOB)])
    job = client(server.url, sleeps).submit("meshwork/job-python:3.11", args=["true"])
    assert job.status == "pending"
    assert [s.method for s in server.seen] == ["POST", "POST"]
    assert sleeps[0] >= 2.0


def test_a_retry_after_longer_than_the_policy_allows_is_an_error_at_once(scripted):
    sleeps = Sleeps()
    server = scripted([Reply(429, {"detail": "Request was throttled."}, {"Retry-After": "3600"})])
    with pytest.raises(RateLimited) as caught:
        client(server.url, sleeps).job(JOB["uuid"])
    assert caught.value.retry_after == 3600
    assert caught.value.status == 429
    assert "Request was throttled." in str(caught.value)
    assert len(server.seen) == 1
    assert sleeps == []


def test_503_then_200_on_a_read_is_retried_with_jittered_backoff(scripted):
    sleeps = Sleeps()
    server = scripted([Reply(503, b"busy"), Reply(502, b"bad gateway"), Reply(200, JOB)])
    job = client(server.url, sleeps).job(JOB["uuid"])
    assert job.status == "pending"
    assert len(server.seen) == 3
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.1
    assert 0 <= sleeps[1] <= 0.2


def test_a_server_that_stays_down_is_given_up_on_after_max_attempts(scripted):
    sleeps = Sleeps()
    server = scripted([Reply(503, {"detail": "maintenance"})])
    with pytest.raises(ServerError) as caught:
        client(server.url, sleeps, max_attempts=3).executor_classes()
    assert caught.value.status == 503
    assert caught.value.reason == "maintenance"
    assert len(server.seen) == 3
    assert len(sleeps) == 2


def test_a_5xx_answer_to_a_submission_is_not_retried(scripted):
    sleeps = Sleeps()
    server = scripted([Reply(503, b"<html>proxy</html>"), Reply(201, JOB)])
    with pytest.raises(OutcomeUnknown) as caught:
        client(server.url, sleeps).submit("meshwork/job-python:3.11")
    assert caught.value.status == 503
    assert "may have been applied" in str(caught.value)
    assert len(server.seen) == 1
    assert sleeps == []


def test_a_lost_answer_to_a_submission_is_not_retried_but_a_read_is(scripted):
    server = scripted([Reply(201, JOB, delay_s=1.5)])
    with pytest.raises(OutcomeUnknown):
        MeshworkClient(server.url, "t", timeout_s=0.3, retry=quick_policy(Sleeps())).submit("meshwork/job-python:3.11")
    assert len(server.seen) == 1

    slow_then_quick = scripted([Reply(200, JOB, delay_s=1.5), Reply(200, JOB)])
    sleeps = Sleeps()
    job = MeshworkClient(slow_then_quick.url, "t", timeout_s=0.3, retry=quick_policy(sleeps)).job(JOB["uuid"])
    assert job.status == "pending"
    assert len(slow_then_quick.seen) == 2
    assert len(sleeps) == 1


def test_connection_refused_is_retried_even_for_a_submission_nothing_was_sent(scripted):
    port = free_port()
    started: list[ScriptedServer] = []
    # The facilitator comes up while the client waits for its first retry.
    sleeps = Sleeps(on_sleep=lambda n: started.append(scripted([Reply(201, JOB)], port=port)) if n == 1 else None)
    job = client(f"http://127.0.0.1:{port}", sleeps).submit("meshwork/job-python:3.11")
    assert job.status == "pending"
    assert len(sleeps) == 1
    assert len(started[0].seen) == 1


def test_a_server_that_never_answers_is_unreachable_after_max_attempts():
    sleeps = Sleeps()
    port = free_port()
    with pytest.raises(Unreachable) as caught:
        client(f"http://127.0.0.1:{port}", sleeps, max_attempts=3).job(JOB["uuid"])
    assert len(sleeps) == 2  # three attempts
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "cannot connect" in str(caught.value)


def test_a_4xx_is_not_retried_and_carries_field_and_reason(scripted):
    sleeps = Sleeps()
    body = {"image": ["not a valid image reference (e.g. meshwork/job-python:3.11)"], "timeout_s": ["too big"]}
    server = scripted([Reply(400, body)])
    with pytest.raises(ApiError) as caught:
        client(server.url, sleeps).submit("NOT VALID")
    error = caught.value
    assert (error.status, error.field) == (400, "image")
    assert error.reason == body["image"][0]
    assert error.errors == body
    assert str(error) == f"POST /api/v1/jobs/: 400 image: {body['image'][0]}"
    assert len(server.seen) == 1
    assert sleeps == []


def test_a_success_with_a_body_that_is_no_job_is_a_clear_error(scripted):
    server = scripted([Reply(200, b"<html>not meshwork</html>")])
    with pytest.raises(UnexpectedResponse, match="compatible version"):
        client(server.url, Sleeps()).job(JOB["uuid"])


def test_full_jitter_draws_below_an_exponential_cap():
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=4.0, jitter=lambda: 1.0)
    assert [policy.backoff_s(n) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert RetryPolicy(jitter=lambda: 0.0).backoff_s(3) == 0.0
    draws = {RetryPolicy().backoff_s(2) for _ in range(20)}
    assert len(draws) > 1
    assert all(0 <= d <= 2.0 for d in draws)
    assert policy.delay_s(0, 3.0) == 3.0  # a Retry-After is a floor
    assert RetryPolicy(max_attempts=2).delay_s(1, None) is None
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 12, 2, 18, 0, 0, tzinfo=UTC)
    assert retry_after_s("7") == 7.0
    assert retry_after_s("Wed, 02 Dec 2026 18:00:30 GMT", now=now) == 30.0
    assert retry_after_s("Wed, 02 Dec 2026 17:00:00 GMT", now=now) == 0.0
    assert retry_after_s("soon") is None
    assert retry_after_s(None) is None
