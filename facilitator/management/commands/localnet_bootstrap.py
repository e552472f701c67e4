"""Sets up a local network's shared state from a JSON plan (used by deploy/localnet): registers
and stakes the nodes on the local chain and creates the user with an API token and credits.
Idempotent, so a restarted network keeps its user, token and balances."""

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from rest_framework.authtoken.models import Token

from chain.client import chain_client
from chain.interface import Role
from chain.services.neurons import neuron_register, neuron_serve, neuron_stake_add
from facilitator.services.credits import credits_grant


class Command(BaseCommand):
    help = "Register a local network's nodes and create its user (reads a JSON plan)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("plan", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        plan = json.loads(options["plan"].read_text())
        chain = chain_client()
        for node in plan["nodes"]:
            neuron = neuron_register(
                client=chain, hotkey=node["hotkey"], coldkey=node["coldkey"], role=Role(node["role"])
            )
            if neuron.stake < node["stake"]:
                neuron_stake_add(client=chain, hotkey=node["hotkey"], amount=node["stake"] - neuron.stake)
            if node.get("address"):
                neuron_serve(client=chain, hotkey=node["hotkey"], address=node["address"])
        token = self._user(plan["user"])
        sys.stdout.write(json.dumps({"api_token": token}) + "\n")

    @transaction.atomic
    def _user(self, spec: dict[str, Any]) -> str:
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=spec["username"], defaults={"is_staff": True, "is_superuser": True}
        )
        user.set_password(spec["password"])
        user.save()
        if created:
            credits_grant(user=user, amount=Decimal(spec["credits"]), note="local network start-up grant")
        token, _ = Token.objects.get_or_create(user=user)
        return str(token.key)
