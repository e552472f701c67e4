from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from executor.models import ExecutorClass
from executor.selectors import executor_class_get, executor_class_is_active, executor_class_limits, executor_class_list
from protocol.messages.executor import ExecutorLimits
from tests.executor.factories import ExecutorClassFactory

pytestmark = pytest.mark.django_db


def test_the_migration_seeds_the_two_cpu_classes() -> None:
    seeded = {
        c.name: (c.cpus, c.memory_mb, c.pids, c.output_mb, c.price_per_second, c.weight, c.gpu, c.is_active)
        for c in ExecutorClass.objects.filter(name__in=["cpu.small", "cpu.large"])
    }
    assert seeded == {
        "cpu.small": (1.0, 512, 128, 64, Decimal("0.001"), 1.0, False, True),
        "cpu.large": (2.0, 2048, 512, 256, Decimal("0.004"), 2.0, False, True),
    }


def test_limits_come_from_the_class() -> None:
    assert executor_class_limits(name="cpu.large") == ExecutorLimits(cpus=2, memory_mb=2048, pids=512, output_mb=256)
    assert executor_class_get(name="cpu.small").limits() == ExecutorLimits(
        cpus=1, memory_mb=512, pids=128, output_mb=64
    )


def test_is_active_knows_only_active_classes() -> None:
    assert executor_class_is_active(name="cpu.small")
    assert not executor_class_is_active(name="gpu.h100")
    ExecutorClassFactory(name="cpu.retired", is_active=False)
    assert not executor_class_is_active(name="cpu.retired")
    # A miner still running a job of a retired class needs its limits.
    assert executor_class_limits(name="cpu.retired", active_only=False) == ExecutorLimits(
        cpus=1, memory_mb=256, pids=64, output_mb=16
    )
    with pytest.raises(ExecutorClass.DoesNotExist):
        executor_class_limits(name="cpu.retired")


def test_inactive_classes_are_hidden_unless_asked_for() -> None:
    ExecutorClass.objects.filter(name="cpu.large").update(is_active=False)
    assert "cpu.large" not in {c.name for c in executor_class_list()}
    with pytest.raises(ExecutorClass.DoesNotExist):
        executor_class_get(name="cpu.large")
    assert executor_class_get(name="cpu.large", active_only=False).name == "cpu.large"


def test_the_seeded_cpu_classes_multiply_2560_square_matrices_uncalibrated() -> None:
    seeded = ExecutorClass.objects.filter(name__in=["cpu.small", "cpu.large"])
    assert {(c.matmul_n, str(c.reference_seconds)) for c in seeded} == {(2560, "{}")}


def test_a_cpu_class_refuses_matrices_below_2048_and_a_gpu_class_may_use_them() -> None:
    cpu = ExecutorClassFactory.build(name="cpu.tiny", matmul_n=1024)
    with pytest.raises(ValidationError) as info:
        cpu.clean()
    assert "matmul_n" in info.value.message_dict
    ExecutorClassFactory.build(name="gpu.tiny", matmul_n=1024, gpu_count=1, gpu=True).clean()


def test_the_seeded_classes_ask_many_easy_proof_of_work_solutions() -> None:
    seeded = ExecutorClass.objects.filter(name__in=["cpu.small", "cpu.large"])
    assert {(c.pow_difficulty, c.pow_count) for c in seeded} == {(16, 64)}
