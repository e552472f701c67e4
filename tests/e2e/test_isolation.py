"""The job container is locked down: no network, read-only root, memory limit."""

import json

import pytest

from tests.e2e.conftest import submit, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.docker]


def test_container_has_no_network_interface_but_loopback(api):
    script = "import os, json; print(json.dumps(sorted(os.listdir('/sys/class/net'))))"
    done = wait_for(api, submit(api, args=["python3", "-c", script])["uuid"])
    assert done["status"] == "completed", done
    assert json.loads(done["stdout"]) == ["lo"]


def test_root_filesystem_is_read_only(api):
    done = wait_for(api, submit(api, args=["python3", "-c", "open('/evil', 'w').write('x')"])["uuid"])
    assert done["status"] == "failed"
    assert "Read-only file system" in done["stderr"]


def test_memory_hog_is_stopped_by_its_limit_with_a_clear_reason(api):
    hog = "b = []\nwhile True: b.append(bytearray(64 * 1024 * 1024))"
    done = wait_for(api, submit(api, args=["python3", "-c", hog], timeout_s=60)["uuid"])
    assert done["status"] == "failed", done
    assert done["failure"]["kind"] == "job"
    assert done["failure"]["reason"] == "out_of_memory"
    assert "memory" in done["failure"]["detail"]
