"""The jobs REST API: the DESIGN.md contract, end to end through views, services and selectors.
Refused submissions are in test_jobs_refused.py."""

import base64
import io
import uuid
import zipfile
from decimal import Decimal

import pytest
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from facilitator.models import CreditAccount, Job
from facilitator.services.credits import credits_grant
from facilitator.services.intervals import credits_charge_interval
from facilitator.services.status import job_apply_status_update
from protocol.messages.facilitator import JobIntervalCharge, JobStatusUpdate
from protocol.messages.jobs import JobStatus
from tests.facilitator.factories import facilitator_job
from tests.factories import JOB_IMAGE, UserFactory, zip_bytes

pytestmark = pytest.mark.django_db
JOBS = "/api/v1/jobs/"
JOB_FIELDS = {
    "uuid",
    "charged",
    "status",
    "status_history",
    "image",
    "args",
    "tag",
    "timeout_s",
    "exit_code",
    "stdout",
    "stderr",
    "stdout_bytes",
    "stderr_bytes",
    "stdout_truncated",
    "stderr_truncated",
    "output_url",
    "executor_class",
    "miner_hotkey",
    "validator_hotkey",
    "executor_seconds",
    "cost",
    "created_at",
    "started_at",
    "finished_at",
    "failure",
}


def _account(user) -> CreditAccount:
    return CreditAccount.objects.get(user=user)


def _complete(job, *, output: bytes | None = None, exit_code: int = 0, seconds: float = 3.0) -> None:
    result = {"exit_code": exit_code, "stdout": "out\n", "stderr": "err\n", "executor_seconds": seconds}
    if output is not None:
        result["output_zip_b64"] = base64.b64encode(output).decode()
    status = JobStatus.COMPLETED if exit_code == 0 else JobStatus.FAILED
    failure = None if exit_code == 0 else {"kind": "job", "reason": "nonzero_exit", "detail": f"exit {exit_code}"}
    update = JobStatusUpdate.model_validate(
        {"job_uuid": job.uuid, "status": status, "miner_hotkey": "5Miner", "result": result, "failure": failure}
    )
    assert job_apply_status_update(validator_hotkey=job.validator_hotkey, update=update)


def test_create_returns_201_with_the_job(api, funded_user):
    body = {
        "image": JOB_IMAGE,
        "args": ["python3", "-c", "print('hi')"],
        "env": {"GREETING": "hi"},
        "executor_class": "cpu.large",
        "timeout_s": 60,
        "tag": "batch-1",
    }
    response = api.post(JOBS, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert set(data) == JOB_FIELDS
    job = Job.objects.get(uuid=data["uuid"])
    assert data == {
        "uuid": str(job.uuid),
        "status": "pending",
        "status_history": [{"status": "pending", "at": data["status_history"][0]["at"], "detail": "submitted"}],
        "image": JOB_IMAGE,
        "args": ["python3", "-c", "print('hi')"],
        "tag": "batch-1",
        "timeout_s": 60,
        "exit_code": None,
        "stdout": "",
        "stderr": "",
        "stdout_bytes": None,
        "stderr_bytes": None,
        "stdout_truncated": False,
        "stderr_truncated": False,
        "output_url": None,
        "executor_class": "cpu.large",
        "miner_hotkey": "",
        "validator_hotkey": "",
        "executor_seconds": None,
        "cost": None,
        "charged": "0.000000",
        "created_at": data["created_at"],
        "started_at": None,
        "finished_at": None,
        "failure": None,
    }
    assert (job.env, job.user, job.input) == ({"GREETING": "hi"}, funded_user, None)
    assert parse_datetime(data["status_history"][0]["at"]) == job.history.get().at
    assert parse_datetime(data["created_at"]) == job.created_at
    # cpu.large costs 0.004/s: a 60 s timeout holds 0.24 credits.
    assert job.hold == Decimal("0.24")
    assert _account(funded_user).held == Decimal("0.24")


def test_create_with_defaults(api):
    response = api.post(JOBS, {"image": JOB_IMAGE}, format="json")
    assert response.status_code == 201
    job = Job.objects.get(uuid=response.json()["uuid"])
    assert (job.args, job.env, job.executor_class, job.timeout_s, job.tag) == ([], {}, "cpu.small", 600, "")


def test_create_with_zip_and_url_input(api):
    blob = base64.b64encode(zip_bytes({"main.py": "print(1)"})).decode()
    response = api.post(JOBS, {"image": JOB_IMAGE, "input": {"zip_b64": blob}}, format="json")
    assert response.status_code == 201
    assert Job.objects.get(uuid=response.json()["uuid"]).input == {"kind": "zip_b64", "zip_b64": blob}
    response = api.post(JOBS, {"image": JOB_IMAGE, "input": {"url": "https://example.com/in.zip"}}, format="json")
    assert response.status_code == 201
    assert Job.objects.get(uuid=response.json()["uuid"]).input == {"kind": "url", "url": "https://example.com/in.zip"}


def test_detail(api, funded_user):
    job = facilitator_job(user=funded_user)
    _complete(job, seconds=2.5)
    data = api.get(f"{JOBS}{job.uuid}/").json()
    assert data["uuid"] == str(job.uuid)
    assert data["status"] == "completed"
    assert [h["status"] for h in data["status_history"]] == ["pending", "completed"]
    assert (data["exit_code"], data["stdout"], data["stderr"]) == (0, "out\n", "err\n")
    assert (data["miner_hotkey"], data["validator_hotkey"]) == ("5Miner", "5Validator")
    assert data["cost"] == "0.002500"
    assert data["started_at"] is not None
    assert data["finished_at"] is not None
    assert data["failure"] is None


def test_a_running_job_shows_what_its_intervals_charged_so_far(api, funded_user):
    job = facilitator_job(user=funded_user, timeout_s=3600)
    assert job_apply_status_update(
        validator_hotkey=job.validator_hotkey, update=JobStatusUpdate(job_uuid=job.uuid, status=JobStatus.RUNNING)
    )
    for index in (1, 2):
        charge = JobIntervalCharge(job_uuid=job.uuid, attempt=1, index=index, seconds=600, miner_hotkey="5Miner")
        credits_charge_interval(validator_hotkey=job.validator_hotkey, charge=charge)
    other = facilitator_job(user=funded_user)
    detail = api.get(f"{JOBS}{job.uuid}/").json()
    assert (detail["status"], detail["charged"], detail["cost"]) == ("running", "1.200000", None)
    listed = {row["uuid"]: row["charged"] for row in api.get(JOBS).json()["results"]}
    assert listed == {str(job.uuid): "1.200000", str(other.uuid): "0.000000"}
    _complete(job, seconds=1500)
    detail = api.get(f"{JOBS}{job.uuid}/").json()
    assert (detail["charged"], detail["cost"]) == ("1.500000", "1.500000")


def test_detail_of_a_failed_job_has_a_typed_failure(api, funded_user):
    job = facilitator_job(user=funded_user)
    _complete(job, exit_code=3)
    data = api.get(f"{JOBS}{job.uuid}/").json()
    assert data["status"] == "failed"
    assert data["exit_code"] == 3
    assert data["failure"] == {"kind": "job", "reason": "nonzero_exit", "detail": "exit 3"}


def test_detail_of_an_unknown_job_is_404(api):
    assert api.get(f"{JOBS}{uuid.uuid4()}/").status_code == 404
    assert api.get(f"{JOBS}not-a-uuid/").status_code == 404


def test_another_users_job_is_404_everywhere(api):
    other = UserFactory.create()
    credits_grant(user=other, amount=Decimal(10))
    job = facilitator_job(user=other, status="pending")
    assert api.get(f"{JOBS}{job.uuid}/").status_code == 404
    assert api.post(f"{JOBS}{job.uuid}/cancel/").status_code == 404
    assert api.get(f"{JOBS}{job.uuid}/output/").status_code == 404
    assert api.get(JOBS).json()["count"] == 0
    assert Job.objects.get(uuid=job.uuid).status == JobStatus.PENDING


def test_list_is_newest_first_and_paginated(api, funded_user):
    uuids = [api.post(JOBS, {"image": JOB_IMAGE, "timeout_s": 10}, format="json").json()["uuid"] for _ in range(5)]
    page = api.get(JOBS, {"limit": 2}).json()
    assert page["count"] == 5
    assert [j["uuid"] for j in page["results"]] == uuids[::-1][:2]
    assert page["next"] is not None
    assert page["previous"] is None
    second = api.get(JOBS, {"limit": 2, "offset": 2}).json()
    assert [j["uuid"] for j in second["results"]] == uuids[::-1][2:4]
    last = api.get(JOBS, {"limit": 2, "offset": 4}).json()
    assert [j["uuid"] for j in last["results"]] == uuids[:1]
    assert last["next"] is None
    assert set(page["results"][0]) == JOB_FIELDS


def test_list_filters_by_status_and_tag(api, funded_user):
    pending_a = api.post(JOBS, {"image": JOB_IMAGE, "tag": "a"}, format="json").json()["uuid"]
    pending_b = api.post(JOBS, {"image": JOB_IMAGE, "tag": "b"}, format="json").json()["uuid"]
    cancelled_a = api.post(JOBS, {"image": JOB_IMAGE, "tag": "a"}, format="json").json()["uuid"]
    assert api.post(f"{JOBS}{cancelled_a}/cancel/").status_code == 200

    def uuids(**params):
        return {j["uuid"] for j in api.get(JOBS, params).json()["results"]}

    assert uuids(tag="a") == {pending_a, cancelled_a}
    assert uuids(status="pending") == {pending_a, pending_b}
    assert uuids(status="cancelled", tag="a") == {cancelled_a}
    assert uuids(status="completed") == set()
    assert uuids(tag="zzz") == set()


@pytest.mark.parametrize(
    ("params", "field"),
    [({"status": "exploded"}, "status"), ({"tag": "x" * 256}, "tag"), ({"tag": "a\x00b"}, "tag")],
)
def test_invalid_list_filter_is_400_naming_the_field(api, params, field):
    response = api.get(JOBS, params)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert response.json()[field]


def test_cancel_pending_job_ends_it_and_releases_the_hold(api, funded_user):
    job_uuid = api.post(JOBS, {"image": JOB_IMAGE, "timeout_s": 100}, format="json").json()["uuid"]
    assert _account(funded_user).held == Decimal("0.1")
    response = api.post(f"{JOBS}{job_uuid}/cancel/")
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "cancelled"
    assert data["cost"] == "0.000000"
    assert data["finished_at"] is not None
    assert [h["status"] for h in data["status_history"]] == ["pending", "cancelled"]
    account = _account(funded_user)
    assert (account.held, account.balance) == (Decimal(0), Decimal(100))


def test_cancel_finished_job_is_400(api, funded_user):
    job = facilitator_job(user=funded_user)
    _complete(job)
    response = api.post(f"{JOBS}{job.uuid}/cancel/")
    assert response.status_code == 400
    assert response.json() == {"status": ["job is already completed"]}
    assert Job.objects.get(uuid=job.uuid).status == JobStatus.COMPLETED


def test_cancel_twice_is_400_the_second_time(api):
    job_uuid = api.post(JOBS, {"image": JOB_IMAGE}, format="json").json()["uuid"]
    assert api.post(f"{JOBS}{job_uuid}/cancel/").status_code == 200
    assert api.post(f"{JOBS}{job_uuid}/cancel/").status_code == 400


def test_output_is_404_until_there_is_one_then_a_zip(api, funded_user):
    job = facilitator_job(user=funded_user)
    response = api.get(f"{JOBS}{job.uuid}/output/")
    assert response.status_code == 404
    assert api.get(f"{JOBS}{job.uuid}/").json()["output_url"] is None

    archive = zip_bytes({"result.txt": "42\n"})
    _complete(job, output=archive)
    detail = api.get(f"{JOBS}{job.uuid}/").json()
    assert detail["output_url"] == f"http://testserver/api/v1/jobs/{job.uuid}/output/"
    response = api.get(f"{JOBS}{job.uuid}/output/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="{job.uuid}-output.zip"'
    assert response.content == archive
    with zipfile.ZipFile(io.BytesIO(response.content)) as z:
        assert z.read("result.txt") == b"42\n"
    listed = api.get(JOBS).json()["results"][0]
    assert listed["output_url"] == detail["output_url"]


def test_schema_and_docs(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/jobs/", "/api/v1/jobs/{job_uuid}/", "/api/v1/jobs/{job_uuid}/cancel/"} <= set(paths)
    assert {"/api/v1/jobs/{job_uuid}/output/", "/api/v1/executor-classes/"} <= set(paths)
    job_schema = schema.json()["components"]["schemas"]["JobOutput"]
    assert job_schema["properties"]["charged"]["readOnly"] is True
    assert "charged so far" in job_schema["properties"]["charged"]["description"]
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", JOBS),
        ("post", JOBS),
        ("get", f"{JOBS}{uuid.uuid4()}/"),
        ("post", f"{JOBS}{uuid.uuid4()}/cancel/"),
        ("get", f"{JOBS}{uuid.uuid4()}/output/"),
        ("get", "/api/v1/executor-classes/"),
    ],
)
def test_unauthenticated_is_401(method, url):
    response = getattr(APIClient(), method)(url)
    assert response.status_code == 401


def test_bad_token_is_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get(JOBS).status_code == 401


def test_too_many_requests_is_429(api, monkeypatch):
    from rest_framework.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute"})
    assert [api.get(JOBS).status_code for _ in range(3)] == [200, 200, 200]
    response = api.get(JOBS)
    assert response.status_code == 429
    assert "throttled" in response.json()["detail"].lower()
