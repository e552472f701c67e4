"""Factories and builders every test package shares (users, executor classes, job specs, zips,
signed reservations). Each app's own models have their factories in `tests/<app>/factories.py`."""

from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from executor.models import ExecutorClass
from protocol.messages.common import JobSpec
from tests.receipts import JOB_IMAGE, job_accepted, signed_reserve  # noqa: F401 - the tests' builders, re-exported

# The classes seeded by executor/migrations/0002; a transactional test's flush deletes them, so
# tests that need them ask for the `executor_classes` fixture, which puts them back.
SEEDED_CLASSES: dict[str, dict[str, Any]] = {
    "cpu.small": {
        "cpus": 1.0,
        "memory_mb": 512,
        "pids": 128,
        "output_mb": 64,
        "price_per_second": Decimal("0.001"),
        "matmul_n": 2560,
    },
    "cpu.large": {
        "cpus": 2.0,
        "memory_mb": 2048,
        "pids": 512,
        "output_mb": 256,
        "price_per_second": Decimal("0.004"),
        "matmul_n": 2560,
    },
}


def executor_classes_ensure() -> dict[str, ExecutorClass]:
    return {
        name: ExecutorClass.objects.get_or_create(name=name, defaults=fields)[0]
        for name, fields in SEEDED_CLASSES.items()
    }


def job_spec(**overrides: Any) -> JobSpec:
    fields: dict[str, Any] = {
        "image": JOB_IMAGE,
        "args": ["python3", "-c", "print(1)"],
        "env": {},
        "executor_class": "cpu.small",
        "timeout_s": 600,
        "input": None,
    }
    fields.update(overrides)
    return JobSpec.model_validate(fields)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")


def zip_bytes(files: dict[str, bytes | str]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()
