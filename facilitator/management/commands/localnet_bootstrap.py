"""Sets up a local network's shared state from a JSON plan (used by deploy/localnet): registers
and stakes the nodes on the local chain and creates the user with an API token and credits.
Idempotent, so a restarted network keeps its user, token and balances."""

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from chain.client import chain_client
from chain.interface import Role
from chain.local import LocalChain
from chain.services.neurons import neuron_register, neuron_serve, neuron_stake_add
from facilitator.services.users import user_admin_ensure


class Command(BaseCommand):
    help = "Register a local network's nodes and create its user (reads a JSON plan)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("plan", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        plan = json.loads(options["plan"].read_text())
        chain = chain_client()
        if isinstance(chain, LocalChain):
            chain.rules_apply()  # this run's LOCAL_CHAIN_* (commit-reveal, tempo), also on a kept chain
        for node in plan["nodes"]:
            neuron = neuron_register(
                client=chain, hotkey=node["hotkey"], coldkey=node["coldkey"], role=Role(node["role"])
            )
            if neuron.stake < node["stake"]:
                neuron_stake_add(client=chain, hotkey=node["hotkey"], amount=node["stake"] - neuron.stake)
            if node.get("address"):
                neuron_serve(client=chain, hotkey=node["hotkey"], address=node["address"])
        user = plan["user"]
        token = user_admin_ensure(
            username=user["username"], password=user["password"], credits=Decimal(user["credits"])
        )
        sys.stdout.write(json.dumps({"api_token": token.key}) + "\n")
