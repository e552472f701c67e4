from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from executor.models import ExecutorClass
from executor.services.calibration import CalibrationFailed, executor_class_calibrate
from executor.services.hosts import HostsConfigError, executor_host_docker_url


class Command(BaseCommand):
    help = "Measure an executor class's benchmark reference times on this host's hardware."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the executor class")
        parser.add_argument("--runs", type=int, default=5)
        where = parser.add_mutually_exclusive_group()
        where.add_argument("--host", help="an executor host named in MINER_EXECUTOR_HOSTS")
        where.add_argument("--docker-url", default="local", help='a Docker engine ("local", unix://, tcp://)')

    def handle(self, *args: Any, **options: Any) -> None:
        if options["runs"] < 1:
            raise CommandError("--runs must be at least 1")
        try:
            docker_url = executor_host_docker_url(name=options["host"]) if options["host"] else options["docker_url"]
            medians = executor_class_calibrate(
                name=options["name"],
                runs=options["runs"],
                docker_url=docker_url,
                progress=lambda line: self.stdout.write(line + "\n"),
            )
        except ExecutorClass.DoesNotExist as exc:
            raise CommandError(f"no executor class {options['name']!r}") from exc
        except (HostsConfigError, CalibrationFailed) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{options['name']}: reference_seconds = {medians}\n")
