"""`manage.py dht [--bootnode] [--role validator|miner] [--host H --port P] [--address host:port]`:
run this node's DHT process until SIGINT/SIGTERM (then it publishes OFFLINE and exits)."""

import asyncio
import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from chain.interface import Role
from dht.bootnodes import parse_hostport
from dht.runner import RunOptions, dht_run
from protocol.identity import node_hotkey
from protocol.keys import KeyFileError
from protocol.logs import bind_node


class Command(BaseCommand):
    help = "Run this node's Kademlia DHT process (bootnode, validator or miner)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bootnode", action="store_true", help="run as a bootnode (no heartbeat)")
        parser.add_argument(
            "--role", choices=["validator", "miner"], help="publish heartbeats as this role (default: MESHWORK_ROLE)"
        )
        parser.add_argument("--host", default=None, help="UDP address to bind (default DHT_HOST)")
        parser.add_argument("--port", type=int, default=None, help="UDP port (default DHT_PORT / DHT_BOOTNODE_PORT)")
        parser.add_argument("--address", action="append", default=[], help="host:port this node serves on (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["bootnode"] and options["role"] is None:
            if str(settings.MESHWORK_ROLE) not in (Role.VALIDATOR, Role.MINER):
                raise CommandError(
                    f"MESHWORK_ROLE is {settings.MESHWORK_ROLE}: pass --role validator|miner, or --bootnode"
                )
            options["role"] = str(settings.MESHWORK_ROLE)
        for address in options["address"]:
            try:
                parse_hostport(address)
            except ValueError as exc:
                raise CommandError(f"--address: {exc}") from exc
        try:
            hotkey = node_hotkey()
        except KeyFileError as exc:
            raise CommandError(str(exc)) from exc
        default_port = settings.DHT_BOOTNODE_PORT if options["bootnode"] else settings.DHT_PORT
        run = RunOptions(
            host=options["host"] or settings.DHT_HOST,
            port=options["port"] if options["port"] is not None else default_port,
            role=Role(options["role"]) if options["role"] else None,
            addresses=options["address"],
            bootnode=options["bootnode"],
        )
        with bind_node(hotkey=hotkey.ss58, role=f"{run.role or 'bootnode'}-dht"):
            asyncio.run(self._main(hotkey, run))

    async def _main(self, hotkey: Any, run: RunOptions) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await dht_run(hotkey=hotkey, options=run, stop=stop)
