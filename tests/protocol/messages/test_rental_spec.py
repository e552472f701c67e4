"""JobSpec.rental and the SSH endpoint fields: additive (absent from an ordinary job's frame),
a job still capped at a day, a rental at 60 days and never with input or env."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from pydantic import ValidationError

from protocol.messages.common import JobSpec
from protocol.messages.facilitator import JobStatusUpdate
from protocol.messages.jobs import JobStarted

KEY = (
    ed25519.Ed25519PrivateKey.generate()
    .public_key()
    .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    .decode()
)
BASE = {"image": "meshwork/rental-ssh:1", "executor_class": "cpu.small"}


def test_an_ordinary_jobs_frame_has_no_rental_field() -> None:
    spec = JobSpec.model_validate({**BASE, "timeout_s": 60})
    assert "rental" not in spec.model_dump(mode="json")
    assert "ssh" not in JobStarted.model_validate(
        {"type": "job.started", "job_uuid": "00000000-0000-0000-0000-000000000001"}
    ).model_dump(mode="json")
    update = JobStatusUpdate.model_validate({"job_uuid": "00000000-0000-0000-0000-000000000001", "status": "running"})
    assert "ssh" not in update.model_dump(mode="json")


def test_a_rental_may_last_sixty_days_a_job_one() -> None:
    rental = JobSpec.model_validate({**BASE, "timeout_s": 60 * 86400, "rental": {"ssh_public_key": KEY + " c"}})
    assert rental.rental is not None
    assert rental.rental.ssh_public_key == KEY
    assert JobSpec.model_validate_json(rental.model_dump_json()) == rental
    with pytest.raises(ValidationError, match="a job's timeout_s is at most 86400"):
        JobSpec.model_validate({**BASE, "timeout_s": 86401})
    with pytest.raises(ValidationError, match="less than or equal to 5184000"):
        JobSpec.model_validate({**BASE, "timeout_s": 60 * 86400 + 1, "rental": {"ssh_public_key": KEY}})


@pytest.mark.parametrize("extra", [{"env": {"A": "1"}}, {"input": {"kind": "url", "url": "https://example.com/x.zip"}}])
def test_a_rental_takes_no_input_or_env(extra: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="a rental takes no input and no env"):
        JobSpec.model_validate({**BASE, "timeout_s": 600, "rental": {"ssh_public_key": KEY}, **extra})


def test_a_bad_key_in_a_frame_is_refused() -> None:
    with pytest.raises(ValidationError, match="TYPE BASE64"):
        JobSpec.model_validate({**BASE, "timeout_s": 600, "rental": {"ssh_public_key": "x" * 20}})


def test_an_endpoint_is_bounded() -> None:
    frame = {"type": "job.started", "job_uuid": "00000000-0000-0000-0000-000000000001"}
    assert JobStarted.model_validate({**frame, "ssh": {"host": "h", "port": 22, "user": "u"}}).ssh is not None
    for bad in (
        {"host": "h", "port": 0, "user": "u"},
        {"host": "", "port": 22, "user": "u"},
        {"host": "h", "port": 70000, "user": "u"},
    ):
        with pytest.raises(ValidationError):
            JobStarted.model_validate({**frame, "ssh": bad})
