"""Reads of executor classes. Jobs name their class; these turn a name into limits and prices."""

from django.db.models import QuerySet

from executor.models import ExecutorClass
from protocol.messages.executor import ExecutorLimits


def executor_class_list(*, active_only: bool = True) -> QuerySet[ExecutorClass]:
    """By name, so listings are stable."""
    classes = ExecutorClass.objects.order_by("name")
    return classes.filter(is_active=True) if active_only else classes


def executor_class_get(*, name: str, active_only: bool = True) -> ExecutorClass:
    """Raises ExecutorClass.DoesNotExist for an unknown (or, by default, inactive) class."""
    return executor_class_list(active_only=active_only).get(name=name)


def executor_class_is_active(*, name: str) -> bool:
    return executor_class_list().filter(name=name).exists()


def executor_class_limits(*, name: str, active_only: bool = True) -> ExecutorLimits:
    return executor_class_get(name=name, active_only=active_only).limits()
