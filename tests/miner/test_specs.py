"""Collecting every host's specs at once: stored per host (an unreadable host with the reason),
and the manifest published with them."""

import docker
import pytest
from asgiref.sync import sync_to_async

from executor.services.hosts import executor_hosts_parse
from miner.models import HostSpecsRecord
from miner.selectors import manifest_published
from miner.services.executors import executor_hosts_sync
from miner.specs import host_specs_refresh

BENCH_IMAGE = "meshwork/bench:1"
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_async_db")]


async def test_specs_are_stored_per_host_and_a_broken_host_does_not_stop_the_rest(settings, tmp_path, executor_classes):
    try:
        info = docker.from_env().info()
        docker.from_env().images.get(BENCH_IMAGE)
    except Exception:
        pytest.skip(f"needs a Docker engine and the image {BENCH_IMAGE}: run `make images`")
    settings.EXECUTOR_WORK_DIR = tmp_path / "jobs"
    settings.MINER_BENCH_IMAGE = BENCH_IMAGE
    await sync_to_async(executor_hosts_sync)(
        executor_hosts_parse("good=local;cpu.small=1|gone=tcp://127.0.0.1:9;cpu.small=1")
    )
    assert await host_specs_refresh(owner="test-specs") == 1

    def rows():
        return {
            r.host.name: (r.specs["cpu_cores"], r.specs["docker_engine_id"], r.error[:18])
            for r in HostSpecsRecord.objects.select_related("host")
        }

    assert await sync_to_async(rows)() == {
        "good": (info["NCPU"], info["ID"], ""),
        "gone": (0, "", "docker info failed"),
    }
    manifest = await sync_to_async(manifest_published)()
    assert manifest is not None
    assert [(h.name, h.specs.cpu_cores) for h in manifest.hosts] == [("gone", 0), ("good", info["NCPU"])]
