"""The SDK against a real facilitator (the whole Django app over HTTP on the test database)."""

import base64
import io
import uuid
import zipfile

import pytest

from client.sdk import ApiError, AuthenticationFailed, InvalidArgument, MeshworkClient, NotFound
from facilitator.models import Job
from tests.client.conftest import job_finish

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sdk(facilitator):
    with MeshworkClient(facilitator.url, facilitator.token) as client:
        yield client


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_a_submitted_job_is_stored_as_sent_and_read_back(sdk, facilitator):
    job = sdk.submit(
        "meshwork/job-python:3.11",
        args=["python3", "/volume/run.py"],
        env={"GREETING": "hi"},
        executor_class="cpu.small",
        timeout_s=30,
        input_zip=_zip({"run.py": "print(1)"}),
        tag="sdk-test",
    )
    assert job.status == "pending"
    assert [event.status for event in job.status_history] == ["pending"]
    row = Job.objects.get(uuid=job.uuid)
    assert (row.user, row.image, row.args, row.env, row.timeout_s, row.tag) == (
        facilitator.user,
        "meshwork/job-python:3.11",
        ["python3", "/volume/run.py"],
        {"GREETING": "hi"},
        30,
        "sdk-test",
    )
    assert sdk.job(job.uuid) == job
    assert [j.uuid for j in sdk.jobs(tag="sdk-test").results] == [job.uuid]
    assert sdk.jobs(tag="other").count == 0


def test_wait_follow_logs_and_output_of_a_finished_job(sdk):
    job = sdk.submit("meshwork/job-python:3.11", args=["python3", "-c", "print(42)"])
    assert sdk.wait(job.uuid, timeout_s=0.2).status == "pending"  # not ended: as it is after the window
    output = _zip({"result.txt": "42"})
    job_finish(job.uuid, exit_code=0, stdout="42\n", stderr="warn\n", output_zip_b64=base64.b64encode(output).decode())

    snapshots = list(sdk.follow(job.uuid, window_s=0.2))
    done = snapshots[-1]
    assert len(snapshots) == 1  # an ended job ends the loop at once
    assert (done.status, done.exit_code, done.stdout, done.stderr) == ("completed", 0, "42\n", "warn\n")
    assert [e.status for e in done.status_history] == ["pending", "completed"]
    assert done.output_url
    assert done.output_url.endswith(f"/api/v1/jobs/{job.uuid}/output/")
    assert sdk.output(job.uuid) == output
    assert done.cost is not None
    assert done.cost > 0


def test_cancel_then_cancel_again_is_a_typed_400(sdk):
    job = sdk.submit("meshwork/job-python:3.11")
    assert sdk.cancel(job.uuid).status == "cancelled"
    with pytest.raises(ApiError) as caught:
        sdk.cancel(job.uuid)
    assert (caught.value.status, caught.value.field) == (400, "status")
    assert "already" in caught.value.reason


def test_refusals_are_typed_with_field_and_reason(sdk, facilitator):
    with pytest.raises(ApiError) as bad_image:
        sdk.submit("NOT an image")
    assert (bad_image.value.status, bad_image.value.field) == (400, "image")
    assert "not a valid image reference" in bad_image.value.reason

    with pytest.raises(ApiError) as bad_class:
        sdk.submit("meshwork/job-python:3.11", executor_class="gpu.imaginary")
    assert bad_class.value.field == "executor_class"

    with pytest.raises(ApiError) as bad_timeout:
        sdk.submit("meshwork/job-python:3.11", timeout_s=0)
    assert bad_timeout.value.field == "timeout_s"

    with pytest.raises(NotFound):
        sdk.job(uuid.uuid4())
    job = sdk.submit("meshwork/job-python:3.11")
    with pytest.raises(NotFound) as no_output:
        sdk.output(job.uuid)
    assert "no output" in str(no_output.value)
    with pytest.raises(InvalidArgument):
        sdk.job("../../admin")

    with MeshworkClient(facilitator.url, "wrong-token") as stranger, pytest.raises(AuthenticationFailed) as denied:
        stranger.account()
    assert denied.value.status == 401


def test_classes_and_account(sdk):
    names = {cls.name for cls in sdk.executor_classes()}
    assert "cpu.small" in names
    account = sdk.account()
    assert account.balance == 100
    sdk.submit("meshwork/job-python:3.11", timeout_s=10)
    assert sdk.account().held > 0
