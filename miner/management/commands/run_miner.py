from typing import Any

from daphne.cli import CommandLineInterface
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from chain.services.metagraph import metagraph_sync_at_startup
from executor.services.hosts import HostsConfigError
from miner.services.access import validators_sync_from_chain
from miner.services.executors import executor_hosts_sync_from_settings, slots_release_all
from miner.services.startup import executor_hosts_sweep
from miner.services.storage_space import storage_volumes_sync_from_settings
from miner.specs import host_specs_refresh_sync
from protocol.identity import node_hotkey
from protocol.keys import KeyFileError
from protocol.logs import bind_node
from protocol.serving import daphne_argv
from protocol.tls import TlsConfigError, daphne_tls_args


class Command(BaseCommand):
    help = "Run the miner: serve validators over websockets and drive executors."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            hotkey = node_hotkey()
            slots = executor_hosts_sync_from_settings()
            tls = daphne_tls_args(host=options["host"])
        except (KeyFileError, HostsConfigError, TlsConfigError) as exc:
            raise CommandError(str(exc)) from exc
        metagraph_sync_at_startup()
        freed = slots_release_all()
        swept = executor_hosts_sweep(owner=hotkey.ss58)
        storage_volumes_sync_from_settings()
        validators = validators_sync_from_chain()
        specs_read = host_specs_refresh_sync(owner=hotkey.ss58)  # also publishes the manifest
        self.stderr.write(
            f"miner {hotkey.ss58}: {slots} executors ({freed} freed, {swept} leftover containers removed), "
            f"specs of {specs_read} hosts, {validators} validators on chain; "
            f"serving on {options['host']}:{options['port']}" + (f", TLS on {settings.TLS_PORT}" if tls else "")
        )
        with bind_node(hotkey=hotkey.ss58, role="miner"):
            CommandLineInterface().run(daphne_argv(host=options["host"], port=options["port"], extra=tls))
