import asyncio
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from protocol.limits import Ban, PeerLimits


class Command(BaseCommand):
    help = "List the peers this node's websocket consumers have banned (docs/limits.md), or lift a ban."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--lift", metavar="PEER", help="a peer as listed, e.g. hk:<ss58> or ip:<address>")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["lift"]:
            if not asyncio.run(_lift(options["lift"])):
                raise CommandError(f"{options['lift']} is not banned")
            self.stderr.write(f"lifted the ban on {options['lift']}")
            return
        bans = asyncio.run(_list())
        for ban in bans:
            self.stdout.write(f"{ban.peer}\t{ban.remaining_s:.0f}s\t{ban.reason}\n")
        self.stderr.write(f"{len(bans)} peer(s) banned")


async def _list() -> list[Ban]:
    limits = PeerLimits()
    try:
        return await limits.bans()
    finally:
        await limits.close()


async def _lift(peer: str) -> bool:
    limits = PeerLimits()
    try:
        return await limits.lift(peer)
    finally:
        await limits.close()
