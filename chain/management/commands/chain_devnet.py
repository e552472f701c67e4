"""`manage.py chain_devnet`: prepare a Chopsticks-run subtensor for a local network.

Funds a coldkey (dev_setStorage), makes the subnet local-friendly, registers every given hotkey
with that coldkey, stakes the validators and runs one epoch so they get validator permits. Only for
a Chopsticks endpoint: the dev RPCs it uses do not exist on a real node."""

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from chain.devnet.state import fund, new_blocks, shape_subnet
from chain.interface import ChainError, RateLimited, Role
from chain.selectors import metagraph_neurons
from chain.services.metagraph import metagraph_sync
from chain.services.neurons import neuron_register, neuron_stake_add
from chain.substrate.connection import SubstrateConnection
from chain.substrate.keyring import KeyRing, chain_key_load
from chain.substrate.subtensor import SubtensorChain
from protocol.keys import KeyFileError, hotkey_create, hotkey_load, hotkey_write, is_ss58

FUNDS = 10**15  # rao: one million TAO, under Chopsticks' 2^53 limit


class Command(BaseCommand):
    help = "Fund, register and stake local nodes on a Chopsticks subtensor (LOCALNET_CHAIN=subtensor)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--endpoint", required=True, help="ws://127.0.0.1:PORT of Chopsticks")
        parser.add_argument("--netuid", type=int, default=1)
        parser.add_argument("--coldkey", required=True, type=Path, help="coldkey file; created if missing")
        parser.add_argument("--validator", action="append", default=[], help="SS58 or hotkey file (repeat)")
        parser.add_argument("--miner", action="append", default=[], help="SS58 or hotkey file (repeat)")
        parser.add_argument("--stake", type=int, default=10**12, help="rao staked to each validator")
        parser.add_argument("--tempo", type=int, default=10, help="blocks per epoch (0: keep the genesis value)")
        parser.add_argument("--weights-rate-limit", type=int, default=5, help="blocks between weights (0: keep)")

    def handle(self, *args: Any, **options: Any) -> None:
        coldkey = _coldkey(options["coldkey"])
        nodes = [(_ss58(v), Role.VALIDATOR) for v in options["validator"]]
        nodes += [(_ss58(m), Role.MINER) for m in options["miner"]]
        rpc = SubstrateConnection(url=options["endpoint"], timeout_s=60)
        chain = SubtensorChain(
            endpoint=options["endpoint"],
            netuid=options["netuid"],
            keyring=KeyRing(coldkey=coldkey),
            min_validator_stake=settings.MIN_VALIDATOR_STAKE,
        )
        try:
            tempo = options["tempo"] or None
            rpc.read(lambda si: fund(si, [coldkey.ss58_address], FUNDS))
            rpc.read(
                lambda si: shape_subnet(
                    si,
                    options["netuid"],
                    stable=True,
                    tempo=tempo,
                    weights_rate_limit=options["weights_rate_limit"] or None,
                )
            )
            for hotkey, role in nodes:
                _with_retry(
                    rpc,
                    lambda h=hotkey, r=role: neuron_register(
                        client=chain, hotkey=h, coldkey=coldkey.ss58_address, role=r
                    ),
                )
                if role == Role.VALIDATOR:
                    neuron_stake_add(client=chain, hotkey=hotkey, amount=options["stake"])
            epoch = rpc.read(lambda si: int(si.query("SubtensorModule", "Tempo", [options["netuid"]]).value)) + 1
            rpc.read(lambda si: new_blocks(si, epoch))  # one epoch: permits follow stake
            metagraph_sync(client=chain, force=True)
            stored = metagraph_neurons(chain=chain.name, netuid=chain.netuid) or []
            neurons = {n.hotkey: n for n in stored}
        except ChainError as exc:
            raise CommandError(f"chain refused: {exc.name or 'error'}: {exc}") from exc
        finally:
            chain.close()
            rpc.close()
        summary = {
            "endpoint": options["endpoint"],
            "netuid": options["netuid"],
            "coldkey": coldkey.ss58_address,
            "nodes": [
                {"hotkey": h, "uid": neurons[h].uid, "role": neurons[h].role.value, "stake": neurons[h].stake}
                for h, _ in nodes
            ],
        }
        self.stdout.write(json.dumps(summary, indent=2) + "\n")


def _with_retry(rpc: SubstrateConnection, action: Any, attempts: int = 4) -> Any:
    """Registrations are rate limited per block and interval: make blocks and try again."""
    for attempt in range(attempts):
        try:
            return action()
        except RateLimited:
            if attempt == attempts - 1:
                raise
            rpc.read(lambda si: new_blocks(si, 1))
    return None


def _coldkey(path: Path) -> Any:
    if not path.exists():
        key, seed = hotkey_create()
        hotkey_write(path=path, hotkey=key, seed_hex=seed)
    try:
        return chain_key_load(path)
    except ChainError as exc:
        raise CommandError(str(exc)) from exc


def _ss58(value: str) -> str:
    if is_ss58(value):
        return value
    try:
        return hotkey_load(Path(value)).ss58
    except KeyFileError as exc:
        raise CommandError(f"{value!r} is neither an SS58 address nor a hotkey file: {exc}") from exc
