"""The real benchmark image, run as jobs run (uid 65534, read-only root, no network, no
capabilities): its answers pass the host's checks, its C matches the host's A·B (numpy 1.24 and
Debian's OpenBLAS in the image, the venv's numpy on the host), and its specs parse."""

import json
import os
from collections.abc import Iterator
from pathlib import Path

import docker
import numpy as np
import pytest

from protocol.benchmarks.matmul import ENTRY_TOLERANCE, RMS_TOLERANCE, commit_rows, matmul_error_ratios
from protocol.benchmarks.pow import pow_challenge, pow_check
from protocol.messages.benchmarks import CheckReason
from tests.protocol.benchmarks.openings import fresh_seed

IMAGE = os.environ.get("MESHWORK_BENCH_IMAGE", "meshwork/bench:1")  # a branch can test its own build
N = 256


@pytest.fixture(scope="module")
def client() -> Iterator[docker.DockerClient]:
    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:
        pytest.skip(f"benchmark image tests need a Docker engine ({exc})")
    try:
        client.images.get(IMAGE)
    except docker.errors.ImageNotFound:
        pytest.skip(f"benchmark image tests need {IMAGE}: run `make images`")
    yield client
    client.close()


def run_job(client: docker.DockerClient, output: Path, *args: str) -> dict:
    output.chmod(0o777)
    stdout = client.containers.run(
        IMAGE,
        ["meshwork-bench", *args],
        user="65534:65534",
        read_only=True,
        network_mode="none",
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        volumes={str(output): {"bind": "/output", "mode": "rw"}},
        remove=True,
        stderr=True,
    )
    return json.loads(stdout.decode().strip().splitlines()[-1])


@pytest.mark.docker
def test_pow_answer_passes_the_hosts_check(client: docker.DockerClient, tmp_path: Path) -> None:
    challenge = pow_challenge(secret=b"secret", miner_hotkey="5Miner", executor="h/cpu/0", cycle=3)
    result = run_job(client, tmp_path, "pow", challenge.hex(), "12", "4")
    assert pow_check(challenge=challenge, difficulty=12, count=4, nonces=result["nonces"])[0] is CheckReason.PASSED


@pytest.mark.docker
@pytest.mark.parametrize("n", [N, N - 1])  # an odd n uses half of its rows' last Philox word
def test_matmul_output_matches_the_hosts_a_times_b(client: docker.DockerClient, tmp_path: Path, n: int) -> None:
    seed = fresh_seed()
    result = run_job(client, tmp_path, "matmul", seed.hex(), str(n))
    raw = (tmp_path / "c.f32").read_bytes()
    assert len(raw) == n * n * 4
    c = np.frombuffer(raw, dtype="<f4").reshape(n, n)
    everything = list(range(n))
    ratios = matmul_error_ratios(seed=seed, n=n, rows=everything, columns=everything, claimed=c)
    assert ratios.max() <= ENTRY_TOLERANCE
    assert np.sqrt(np.mean(ratios**2)) <= RMS_TOLERANCE
    assert result["root"] == commit_rows(c)[0].hex()


@pytest.mark.docker
def test_specs_parse(client: docker.DockerClient, tmp_path: Path) -> None:
    specs = run_job(client, tmp_path, "specs")
    assert set(specs) == {"cpu_model", "cpu_cores", "memory_mb", "disk_mb", "gpus"}
    assert isinstance(specs["cpu_model"], str)
    assert specs["cpu_cores"] >= 1
    assert specs["memory_mb"] > 0
    assert specs["disk_mb"] > 0
    assert specs["gpus"] == []
