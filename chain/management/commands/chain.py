"""`manage.py chain register|serve|stake|list|metagraph|weights`: the same verbs on every chain backend."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chain.client import chain_client
from chain.interface import ChainClient, ChainError, Neuron, RateLimited, Role
from chain.management.reports import metagraph_report, parse_weights
from chain.selectors import chain_neurons
from chain.services.metagraph import metagraph_ensure
from chain.services.neurons import neuron_register, neuron_serve, neuron_stake_add
from chain.services.weight_commits import weight_commits_reveal, weights_set
from protocol.identity import node_hotkey
from protocol.keys import KeyFileError, is_ss58


class Command(BaseCommand):
    help = "Register, serve, stake and list nodes on the configured chain (settings.CHAIN)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        reg = sub.add_parser("register", help="register a hotkey on the subnet")
        reg.add_argument("--hotkey", help="SS58; default: this node's hotkey")
        reg.add_argument("--coldkey", required=True, help="SS58 of the owning coldkey")
        reg.add_argument("--role", choices=[r.value for r in Role], required=True)
        serve = sub.add_parser("serve", help="announce the address a node serves on")
        serve.add_argument("--hotkey")
        serve.add_argument("--address", required=True, help="host:port")
        stake = sub.add_parser("stake", help="add stake to a hotkey")
        stake.add_argument("--hotkey")
        stake.add_argument("--amount", type=int, required=True)
        sub.add_parser("list", help="print the subnet's registered nodes")
        sub.add_parser("metagraph", help="read the subnet from the chain into Postgres now, and print it")
        weights = sub.add_parser("weights", help="set weights (a commit where commit-reveal is on), or reveal")
        weights.add_argument("--hotkey", help="the validator; default: this node's hotkey")
        weights.add_argument("--set", dest="weights", action="append", default=[], metavar="HOTKEY=WEIGHT")
        weights.add_argument("--reveal", action="store_true", help="reveal the commits whose window is open")

    def handle(self, *args: Any, **options: Any) -> None:
        client = chain_client()
        verb = options["verb"]
        try:
            if verb == "list":
                metagraph_ensure(client=client)  # a node that never synced reads the chain once
                self._list(chain_neurons(), client.current_block())
                return
            if verb == "metagraph":
                self.stdout.write(metagraph_report(client))
                return
            if verb == "weights" and options["reveal"]:
                self.stdout.write(f"revealed {weight_commits_reveal(client=client)} commit(s)\n")
                return
            hotkey = self._hotkey(options.get("hotkey"))
            if verb == "register":
                _check_coldkey(client, options["coldkey"])
                neuron = neuron_register(
                    client=client, hotkey=hotkey, coldkey=options["coldkey"], role=Role(options["role"])
                )
                self.stdout.write(f"registered {hotkey} as {neuron.role} uid {neuron.uid}\n")
            elif verb == "serve":
                _check_address(options["address"])
                neuron_serve(client=client, hotkey=hotkey, address=options["address"])
                self.stdout.write(f"{hotkey} serves on {options['address']}\n")
            elif verb == "stake":
                neuron_stake_add(client=client, hotkey=hotkey, amount=options["amount"])
                self.stdout.write(f"added {options['amount']} stake to {hotkey}\n")
            elif verb == "weights":
                weights_set(client=client, hotkey=hotkey, weights=parse_weights(options["weights"]))
                self.stdout.write(f"weights sent for {hotkey}\n")
        except RateLimited as exc:
            raise CommandError(
                f"chain refused: {exc.name}: {exc}; allowed again at block {exc.retry_at_block}"
            ) from exc
        except ChainError as exc:
            raise CommandError(f"chain refused: {exc.name or 'error'}: {exc}") from exc

    def _hotkey(self, given: str | None) -> str:
        if given:
            if not is_ss58(given):
                raise CommandError(f"--hotkey: {given!r} is not an SS58 address")
            return given
        try:
            return node_hotkey().ss58
        except KeyFileError as exc:
            raise CommandError(str(exc)) from exc

    def _list(self, neurons: list[Neuron], block: int) -> None:
        self.stdout.write(f"block {block}, {len(neurons)} nodes\n")
        for n in neurons:
            self.stdout.write(f"{n.uid:>4} {n.role:<9} {n.hotkey} stake={n.stake} address={n.address or '-'}\n")


def _check_address(address: str) -> None:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"--address: {address!r} is not host:port")


def _check_coldkey(client: ChainClient, coldkey: str) -> None:
    """SS58 everywhere; some chains (Hypertensor) also take 20-byte 0x addresses (Ethereum-style)."""
    if not client.valid_coldkey(coldkey):
        raise CommandError(f"--coldkey: {coldkey!r} is not {client.coldkey_formats}")
