import asyncio
import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from chain.services.metagraph import metagraph_sync_at_startup
from protocol.identity import node_hotkey
from protocol.keys import KeyFileError
from protocol.logs import bind_node
from protocol.nonces import RedisNonceStore
from validator.node import validator_node_from_settings
from validator.services.miners import miners_sync_from_chain

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the validator: connect to the facilitator and route its jobs to miners."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            hotkey = node_hotkey()
        except KeyFileError as exc:
            raise CommandError(str(exc)) from exc
        try:  # what the node cannot run without fails first, naming the settings
            node = validator_node_from_settings(hotkey=hotkey, nonces=RedisNonceStore())
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        metagraph_sync_at_startup()
        count = miners_sync_from_chain()
        self.stderr.write(f"validator {hotkey.ss58}: {count} miners on chain")
        try:
            with bind_node(hotkey=hotkey.ss58, role="validator"):
                asyncio.run(node.run_forever())
        except KeyboardInterrupt:
            self.stderr.write("validator stopped")
