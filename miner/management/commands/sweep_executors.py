from typing import Any

from django.core.management.base import BaseCommand, CommandError

from executor.services.hosts import HostsConfigError
from miner.services.executors import executor_hosts_sync_from_settings
from miner.services.startup import executor_hosts_sweep
from protocol.identity import node_hotkey
from protocol.keys import KeyFileError


class Command(BaseCommand):
    help = "Remove this miner's leftover job containers, volumes and work directories (after a crash)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            owner = node_hotkey().ss58
            executor_hosts_sync_from_settings()
        except (KeyFileError, HostsConfigError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"removed {executor_hosts_sweep(owner=owner)} leftover containers\n")
