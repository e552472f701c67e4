"""Seeds the two default CPU classes; operators edit or add classes in the admin afterwards."""

from decimal import Decimal

from django.db import migrations

SEED = [
    {
        "name": "cpu.small",
        "description": "1 CPU, 512 MiB memory, 64 MiB of output.",
        "cpus": 1.0,
        "memory_mb": 512,
        "pids": 128,
        "output_mb": 64,
        "price_per_second": Decimal("0.001"),
        "weight": 1.0,
    },
    {
        "name": "cpu.large",
        "description": "2 CPUs, 2 GiB memory, 256 MiB of output.",
        "cpus": 2.0,
        "memory_mb": 2048,
        "pids": 512,
        "output_mb": 256,
        "price_per_second": Decimal("0.004"),
        "weight": 2.0,
    },
]


def seed(apps, schema_editor):
    ExecutorClass = apps.get_model("executor", "ExecutorClass")
    for row in SEED:
        # get_or_create: never overwrite a class an operator already edited.
        ExecutorClass.objects.get_or_create(name=row["name"], defaults=row)


def unseed(apps, schema_editor):
    ExecutorClass = apps.get_model("executor", "ExecutorClass")
    ExecutorClass.objects.filter(name__in=[row["name"] for row in SEED]).delete()


class Migration(migrations.Migration):
    dependencies = [("executor", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
