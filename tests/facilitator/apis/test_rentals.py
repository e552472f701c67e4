"""`/api/v1/rentals/` (DESIGN.md): the contract through views, services and selectors; every bad
input a 4xx naming its field, with nothing created, held or billed."""

from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from facilitator.models import CreditAccount, Job
from facilitator.services.specs import job_spec
from facilitator.services.status import job_apply_status_update
from protocol.messages.facilitator import JobStatusUpdate
from protocol.messages.jobs import JobStatus

pytestmark = pytest.mark.django_db
RENTALS = "/api/v1/rentals/"
RENTAL_FIELDS = {
    "uuid", "status", "executor_class", "duration_s", "ssh", "ssh_public_key", "miner_hotkey", "created_at",
    "started_at", "expires_at", "finished_at", "cost", "charged", "status_history", "failure",
}  # fmt: skip


def openssh(public_key: object) -> str:
    return public_key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()  # type: ignore[attr-defined]


@pytest.fixture
def key() -> str:
    return openssh(ed25519.Ed25519PrivateKey.generate().public_key())


def _rent(api, key: str, **overrides):
    body = {"executor_class": "cpu.small", "duration_s": 3600, "ssh_public_key": key + " me@laptop\n", **overrides}
    return api.post(RENTALS, body, format="json")


def _held(user) -> Decimal:
    return CreditAccount.objects.get(user=user).held


def test_renting_holds_the_duration_and_answers_the_contract(api, funded_user, key):
    response = _rent(api, key)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == RENTAL_FIELDS
    assert (body["status"], body["ssh"], body["expires_at"], body["duration_s"]) == ("pending", None, None, 3600)
    assert body["ssh_public_key"] == key  # normalised: the comment is not kept
    assert [e["status"] for e in body["status_history"]] == ["pending"]
    assert _held(funded_user) == Decimal("3.6")  # 3600 s × 0.001
    job = Job.objects.get(uuid=body["uuid"])
    spec = job_spec(job)
    assert (job.kind, spec.timeout_s, spec.rental.ssh_public_key if spec.rental else None) == ("rental", 3600, key)
    assert spec.image == "meshwork/rental-ssh:1"
    assert not spec.args


def test_an_active_rental_shows_where_to_log_in_and_when_it_ends(api, funded_user, key):
    uuid = _rent(api, key).json()["uuid"]
    Job.objects.filter(uuid=uuid).update(status=JobStatus.DISPATCHED, validator_hotkey="5Validator")
    running = JobStatusUpdate.model_validate(
        {"job_uuid": uuid, "status": "running", "miner_hotkey": "5Miner",
         "ssh": {"host": "m.example", "port": 2200, "user": "meshwork"}}
    )  # fmt: skip
    assert job_apply_status_update(validator_hotkey="5Validator", update=running)

    body = api.get(f"{RENTALS}{uuid}/").json()
    assert body["status"] == "active"
    assert body["ssh"] == {"host": "m.example", "port": 2200, "user": "meshwork"}
    assert body["expires_at"] is not None
    ended = JobStatusUpdate.model_validate(
        {"job_uuid": uuid, "status": "timeout", "detail": "time is up",
         "result": {"exit_code": None, "executor_seconds": 3600.0},
         "failure": {"kind": "job", "reason": "timeout", "detail": "up"}}
    )  # fmt: skip
    assert job_apply_status_update(validator_hotkey="5Validator", update=ended)
    body = api.get(f"{RENTALS}{uuid}/").json()
    assert (body["status"], body["ssh"], body["failure"], body["cost"]) == ("ended", None, None, "3.600000")
    assert [e["status"] for e in body["status_history"]] == ["pending", "active", "ended"]


def test_a_retried_attempt_forgets_the_old_machine(api, key):
    uuid = _rent(api, key).json()["uuid"]
    Job.objects.filter(uuid=uuid).update(status=JobStatus.RUNNING, validator_hotkey="5V", ssh_host="h", ssh_port=22)
    retry = JobStatusUpdate(job_uuid=uuid, status=JobStatus.DISPATCHED, detail="trying another miner")
    assert job_apply_status_update(validator_hotkey="5V", update=retry)
    job = Job.objects.get(uuid=uuid)
    assert (job.ssh_host, job.ssh_port) == ("", None)


def test_rentals_and_jobs_are_listed_apart(api, key):
    rental = _rent(api, key).json()["uuid"]
    job = api.post("/api/v1/jobs/", {"image": "meshwork/job-python:3.11", "args": ["true"]}, format="json").json()[
        "uuid"
    ]

    assert [r["uuid"] for r in api.get(RENTALS).json()["results"]] == [rental]
    assert [j["uuid"] for j in api.get("/api/v1/jobs/").json()["results"]] == [job]
    assert api.get(f"/api/v1/jobs/{rental}/").status_code == 404
    assert api.get(f"{RENTALS}{job}/").status_code == 404


def test_deleting_a_pending_rental_ends_it_unbilled(api, funded_user, key):
    uuid = _rent(api, key).json()["uuid"]
    response = api.delete(f"{RENTALS}{uuid}/")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["cost"]) == ("ended", "0.000000")
    assert _held(funded_user) == 0
    again = api.delete(f"{RENTALS}{uuid}/")
    assert again.status_code == 400
    assert "already ended" in again.json()["status"][0]


def test_another_users_rental_is_not_found(api, key, executor_classes):
    from rest_framework.test import APIClient

    from tests.facilitator.factories import TokenFactory

    uuid = _rent(api, key).json()["uuid"]
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory.create().key}")
    assert other.get(f"{RENTALS}{uuid}/").status_code == 404
    assert other.delete(f"{RENTALS}{uuid}/").status_code == 404
    assert other.get(RENTALS).json()["results"] == []


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"duration_s": 59}, "duration_s", "between 60 and 5184000"),
        ({"duration_s": 5_184_001}, "duration_s", "between 60 and 5184000"),
        ({"duration_s": "long"}, "duration_s", "valid integer"),
        ({"executor_class": "gpu.imaginary"}, "executor_class", "unknown executor class"),
        ({"ssh_public_key": "hunter2"}, "ssh_public_key", "TYPE BASE64"),
        ({"ssh_public_key": "ssh-ed25519 bm90IGEga2V5"}, "ssh_public_key", "not a valid ssh-ed25519"),
        ({"ssh_public_key": "ssh-dss AAAAB3NzaC1kc3MAAACBAP"}, "ssh_public_key", "not one of"),
        ({"ssh_public_key": 'command="rm -rf /" ssh-ed25519 AAAA'}, "ssh_public_key", "not one of"),
        ({"ssh_public_key": "ssh-ed25519 AAAA\nssh-ed25519 BBBB"}, "ssh_public_key", "one line"),
        ({"ssh_public_key": 42}, "ssh_public_key", "valid string"),
    ],
)
def test_bad_input_names_the_field_and_creates_nothing(api, funded_user, key, overrides, field, reason):
    response = _rent(api, key, **overrides)
    assert response.status_code == 400
    assert reason in " ".join(response.json()[field])
    assert not Job.objects.exists()
    assert _held(funded_user) == 0


def test_a_weak_rsa_key_is_refused(api, key):
    weak = openssh(rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key())
    response = _rent(api, key, ssh_public_key=weak)
    assert response.status_code == 400
    assert "at least 2048 bits" in response.json()["ssh_public_key"][0]


def test_a_missing_field_is_named(api):
    response = api.post(RENTALS, {"executor_class": "cpu.small"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"duration_s", "ssh_public_key"}


def test_too_few_credits_for_the_duration_is_402_and_holds_nothing(api, funded_user, key):
    response = _rent(api, key, duration_s=5_184_000)  # 5184 credits; the user has 100
    assert response.status_code == 402
    assert "this rental may cost up to 5184" in response.json()["credits"][0]
    assert not Job.objects.exists()
    assert _held(funded_user) == 0


def test_unauthenticated_is_401(key, executor_classes):
    from rest_framework.test import APIClient

    assert APIClient().post(RENTALS, {}, format="json").status_code == 401
    assert APIClient().get(RENTALS).status_code == 401


@pytest.mark.parametrize("path", [RENTALS, "/api/v1/jobs/", "/api/v1/objects/"])
def test_a_huge_page_size_is_capped_not_a_500(api, key, path):
    _rent(api, key)
    response = api.get(path, {"limit": "99999999999999999999"})
    assert response.status_code == 200
