"""`manage.py size_class`: resizing a class forgets its calibration (it was for other limits)."""

import pytest
from django.core.management import CommandError, call_command

from executor.models import ExecutorClass

pytestmark = pytest.mark.django_db


def test_a_resized_class_must_be_calibrated_again(executor_classes, capsys) -> None:
    ExecutorClass.objects.filter(name="cpu.small").update(reference_seconds={"pow": 3.0, "matmul": 2.0})
    call_command("size_class", "cpu.small", "--cpus", "0.333", "--memory-mb", "1024", "--description", "a third")
    small = ExecutorClass.objects.get(name="cpu.small")
    assert (small.cpus, small.memory_mb, small.description, small.reference_seconds) == (0.333, 1024, "a third", {})
    assert "calibrate it again" in capsys.readouterr().out


def test_the_same_size_keeps_the_calibration(executor_classes, capsys) -> None:
    ExecutorClass.objects.filter(name="cpu.small").update(reference_seconds={"pow": 3.0})
    call_command("size_class", "cpu.small", "--cpus", "1", "--memory-mb", "512")
    assert ExecutorClass.objects.get(name="cpu.small").reference_seconds == {"pow": 3.0}
    assert "unchanged" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cpu.nope", "--cpus", "1", "--memory-mb", "512"], "no executor class 'cpu.nope'"),
        (["cpu.small", "--cpus", "0", "--memory-mb", "512"], "--cpus must be within"),
        (["cpu.small", "--cpus", "1", "--memory-mb", "8"], "--memory-mb at least 16"),
    ],
)
def test_bad_arguments_are_one_line_errors(executor_classes, argv, message) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("size_class", *argv)
