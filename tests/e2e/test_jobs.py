"""Jobs through all four roles: REST → facilitator → validator → miner → executor → container."""

import base64
import io
import zipfile

import pytest

from tests.e2e.conftest import balance, job_containers, make_zip, submit, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.docker]


def test_completed_job_reports_output_history_and_charges_its_cost(api):
    before, _ = balance(api)
    job = submit(api, args=["python3", "-c", "print(6 * 7)"], tag="e2e-basic")
    assert job["status"] in {"pending", "dispatched"}

    done = wait_for(api, job["uuid"])

    assert done["status"] == "completed", done
    assert done["exit_code"] == 0
    assert done["stdout"] == "42\n"
    assert done["failure"] is None
    statuses = [h["status"] for h in done["status_history"]]
    assert statuses[0] == "pending"
    assert "dispatched" in statuses
    assert "running" in statuses
    assert statuses[-1] == "completed"
    assert done["miner_hotkey"]
    assert done["validator_hotkey"]
    assert done["started_at"]
    assert done["finished_at"]
    cost = float(done["cost"])
    assert cost > 0
    after, held = balance(api)
    assert after == pytest.approx(before - cost, abs=1e-6)
    assert held == 0
    assert job_containers(job["uuid"]) == []


def test_nonzero_exit_is_a_charged_job_failure(api):
    done = wait_for(api, submit(api, args=["python3", "-c", "import sys; print('bad'); sys.exit(3)"])["uuid"])

    assert done["status"] == "failed"
    assert done["exit_code"] == 3
    assert done["failure"]["kind"] == "job"
    assert done["failure"]["reason"] == "nonzero_exit"
    assert done["stdout"] == "bad\n"
    assert float(done["cost"]) > 0


def test_timeout_stops_the_job_and_charges_for_the_time_used(api):
    done = wait_for(api, submit(api, args=["python3", "-c", "import time; time.sleep(60)"], timeout_s=2)["uuid"])

    assert done["status"] == "timeout"
    assert done["failure"]["kind"] == "job"
    assert done["failure"]["reason"] == "timeout"
    assert 0 < float(done["cost"]) <= 2 * 0.001 * 1.5
    assert job_containers(done["uuid"]) == []


def test_cancelling_a_running_job_removes_its_container(api):
    job = submit(api, args=["python3", "-c", "import time; print('started', flush=True); time.sleep(120)"])
    wait_for(api, job["uuid"], {"running"})

    response = api.post(f"/api/v1/jobs/{job['uuid']}/cancel/")
    assert response.status_code == 200
    done = wait_for(api, job["uuid"])

    assert done["status"] == "cancelled"
    assert job_containers(job["uuid"]) == []
    assert api.post(f"/api/v1/jobs/{job['uuid']}/cancel/").status_code == 400


def test_input_is_mounted_at_volume_and_output_comes_back_as_a_zip(api):
    script = (
        "import pathlib; text = pathlib.Path('/volume/data/in.txt').read_text();"
        "pathlib.Path('/output/out.txt').write_text(text.upper())"
    )
    blob = base64.b64encode(make_zip({"data/in.txt": "hello meshwork"})).decode()
    done = wait_for(api, submit(api, args=["python3", "-c", script], input={"zip_b64": blob})["uuid"])

    assert done["status"] == "completed", done
    assert done["output_url"].endswith(f"/api/v1/jobs/{done['uuid']}/output/")
    response = api.get(done["output_url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        assert zf.read("out.txt") == b"HELLO MESHWORK"


def test_job_list_filters_by_tag(api):
    done = wait_for(api, submit(api, args=["python3", "-c", "pass"], tag="e2e-list")["uuid"])
    listed = api.get("/api/v1/jobs/", params={"tag": "e2e-list"}).json()
    assert [j["uuid"] for j in listed["results"]] == [done["uuid"]]
    assert listed["count"] == 1
