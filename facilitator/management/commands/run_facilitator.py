from typing import Any

from daphne.cli import CommandLineInterface
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from chain.services.metagraph import metagraph_sync_at_startup
from facilitator.services.sessions import validator_sessions_close_all
from protocol.identity import node_ss58_or_empty
from protocol.logs import bind_node
from protocol.serving import daphne_argv
from protocol.tls import TlsConfigError, daphne_tls_args


class Command(BaseCommand):
    help = "Run the facilitator: the REST API for users and the websocket for validators."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            tls = daphne_tls_args(host=options["host"])
        except TlsConfigError as exc:
            raise CommandError(str(exc)) from exc
        metagraph_sync_at_startup()
        closed = validator_sessions_close_all()
        self.stderr.write(
            f"facilitator: closed {closed} stale validator sessions; serving on {options['port']}"
            + (f", TLS on {settings.TLS_PORT}" if tls else "")
        )
        with bind_node(hotkey=node_ss58_or_empty(), role="facilitator"):
            CommandLineInterface().run(daphne_argv(host=options["host"], port=options["port"], extra=tls))
