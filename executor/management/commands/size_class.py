"""Resize an executor class (limits, description) from the command line, e.g. to fit the local
network's classes to this machine. On the subnet owner's node the catalogue is republished."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from executor.models import ExecutorClass
from executor.selectors import executor_class_get
from executor.services.catalogue import executor_class_save


class Command(BaseCommand):
    help = "Set an executor class's CPU and memory limits (and description)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--cpus", type=float, required=True)
        parser.add_argument("--memory-mb", type=int, required=True)
        parser.add_argument("--description", default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            cls = executor_class_get(name=options["name"], active_only=False)
        except ExecutorClass.DoesNotExist as exc:
            raise CommandError(f"no executor class {options['name']!r}") from exc
        if not 0.01 <= options["cpus"] <= 256 or options["memory_mb"] < 16:
            raise CommandError("--cpus must be within 0.01..256 and --memory-mb at least 16")
        changed = (cls.cpus, cls.memory_mb) != (options["cpus"], options["memory_mb"])
        cls.cpus, cls.memory_mb = options["cpus"], options["memory_mb"]
        if options["description"] is not None:
            cls.description = options["description"]
        if changed:
            cls.reference_seconds = {}  # measured for other limits: calibrate again
        executor_class_save(executor_class=cls)
        state = "resized; calibrate it again" if changed else "unchanged"
        self.stdout.write(f"{cls.name}: {cls.cpus:g} CPUs, {cls.memory_mb} MiB ({state})\n")
