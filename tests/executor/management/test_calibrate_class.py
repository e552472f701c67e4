"""`manage.py calibrate_class` on a small class, on the real engine and benchmark image."""

import io

import docker
import pytest
from django.core.management import CommandError, call_command

from executor.models import ExecutorClass
from tests.executor.factories import ExecutorClassFactory

BENCH_IMAGE = "meshwork/bench:1"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def bench_image(settings, tmp_path) -> None:
    try:
        docker.from_env().images.get(BENCH_IMAGE)
    except Exception:
        pytest.skip(f"needs a Docker engine and the image {BENCH_IMAGE}: run `make images`")
    settings.MINER_BENCH_IMAGE = BENCH_IMAGE
    settings.EXECUTOR_WORK_DIR = tmp_path / "jobs"


def test_calibration_stores_the_medians_and_reports_each_run(settings):
    settings.MINER_EXECUTOR_HOSTS = "box=local;bench.tiny=1"
    ExecutorClassFactory.create(name="bench.tiny", matmul_n=64, pow_difficulty=6, pow_count=4)
    out = io.StringIO()
    call_command("calibrate_class", "bench.tiny", "--runs", "2", "--host", "box", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] + ":" + line.split(":")[1].split("(")[0] for line in lines[:4]] == [
        "run 1/2: pow ",
        "run 1/2: matmul ",
        "run 2/2: pow ",
        "run 2/2: matmul ",
    ]
    reference = ExecutorClass.objects.get(name="bench.tiny").reference_seconds
    assert set(reference) == {"pow", "matmul"}
    assert all(0 < s < 60 for s in reference.values())
    assert lines[-1] == f"bench.tiny: reference_seconds = {reference}"


def test_unknown_class_and_unknown_host_are_command_errors(settings):
    settings.MINER_EXECUTOR_HOSTS = "box=local;cpu.small=1"
    with pytest.raises(CommandError, match="no executor class"):
        call_command("calibrate_class", "no.such", "--runs", "1")
    ExecutorClassFactory.create(name="bench.tiny", matmul_n=64, pow_difficulty=6, pow_count=4)
    with pytest.raises(CommandError, match="no executor host 'gone'"):
        call_command("calibrate_class", "bench.tiny", "--host", "gone")
    assert ExecutorClass.objects.get(name="bench.tiny").reference_seconds == {}
