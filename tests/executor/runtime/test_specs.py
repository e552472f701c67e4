"""Host specs: the engine's figures and the probe's, combined; the real probe on the real engine."""

import json

import pytest

from executor.runtime.specs import engine_has_gpus, engine_specs, host_specs_collect, probe_parse, specs_combine
from protocol.messages.manifest import GpuSpec

BENCH_IMAGE = "meshwork/bench:1"
INFO = {"NCPU": 16, "MemTotal": 64 * 1024**3, "ID": "ABCD:EFGH", "Runtimes": {"runc": {}, "nvidia": {}}}
PROBE = {
    "cpu_model": "AMD EPYC 7763",
    "cpu_cores": 2,  # the container's view: the engine's figure wins
    "memory_mb": 512,
    "disk_mb": 4000,
    "gpus": [{"model": "NVIDIA A100-SXM4-80GB", "memory_mb": 81920}],
}


def test_engine_and_probe_combine_with_the_engine_figures_winning():
    specs = specs_combine(engine=engine_specs(INFO), probe=probe_parse("noise\n" + json.dumps(PROBE)))
    assert specs.model_dump() == {
        "cpu_model": "AMD EPYC 7763",
        "cpu_cores": 16,
        "memory_mb": 65536,
        "disk_mb": 4000,
        "gpus": [GpuSpec(model="NVIDIA A100-SXM4-80GB", memory_mb=81920).model_dump()],
        "docker_engine_id": "ABCD:EFGH",
    }
    assert engine_has_gpus(INFO)
    assert not engine_has_gpus({"Runtimes": {"runc": {}}})


@pytest.mark.parametrize("stdout", ["", "not json", "[1, 2]", json.dumps({"gpus": [{"model": "x"}]})])
def test_a_bad_probe_output_is_an_error(stdout):
    with pytest.raises(ValueError, match=r"."):  # pydantic's ValidationError is a ValueError
        probe_parse(stdout)


async def test_collection_on_the_real_engine(docker_client, owner):
    try:
        docker_client.images.get(BENCH_IMAGE)
    except Exception:
        pytest.skip(f"needs the image {BENCH_IMAGE}: run `make images`")
    info = docker_client.info()
    specs, error = await host_specs_collect(docker_url="local", image=BENCH_IMAGE, owner=owner)
    assert error == ""
    assert (specs.cpu_cores, specs.docker_engine_id) == (info["NCPU"], info["ID"])
    assert specs.memory_mb == info["MemTotal"] // (1024 * 1024)
    assert specs.cpu_model
    assert specs.disk_mb > 0
    assert specs.gpus == []


async def test_a_failing_probe_leaves_the_engine_figures_and_says_why(docker_client, owner):
    specs, error = await host_specs_collect(docker_url="local", image="meshwork/no-such-image:1", owner=owner)
    assert "image_missing" in error
    assert specs.cpu_cores == docker_client.info()["NCPU"]
    assert specs.disk_mb == 0
    assert specs.cpu_model == ""


async def test_an_unreachable_engine_leaves_empty_specs(owner):
    specs, error = await host_specs_collect(docker_url="tcp://127.0.0.1:9", image=BENCH_IMAGE, owner=owner)
    assert error.startswith("docker info failed")
    assert (specs.cpu_cores, specs.memory_mb, specs.docker_engine_id) == (0, 0, "")
