"""Text for `manage.py chain metagraph|weights`."""

from django.core.management.base import CommandError

from chain.interface import ChainClient
from chain.selectors import chain_neurons, metagraph_snapshot
from chain.services.metagraph import metagraph_sync


def metagraph_report(client: ChainClient) -> str:
    """Sync now (real chains) and describe the subnet as stored."""
    metagraph_sync(client=client, force=True)  # does nothing on the local chain
    snapshot = metagraph_snapshot(chain=client.name, netuid=client.netuid) if client.synced else None
    if snapshot is None:
        lines = [f"{client.name} subnet {client.netuid} at block {client.current_block()}"]
    else:
        lines = [
            f"{client.name} subnet {client.netuid} at block {snapshot.block}: tempo {snapshot.tempo}, "
            f"commit-reveal {'on' if snapshot.commit_reveal else 'off'}, "
            f"weights every {snapshot.weights_rate_limit} blocks, version key {snapshot.weights_version}"
        ]
    neurons = chain_neurons()
    for n in neurons:
        extra = " ".join(
            part
            for part in (
                "permit" if n.validator_permit else "",
                f"peer={n.peer_id}" if n.peer_id else "",
                f"class={n.classification}" if n.classification else "",
            )
            if part
        )
        lines.append(
            f"{n.uid:>4} {n.role:<9} {n.hotkey} coldkey={n.coldkey or '-'} stake={n.stake} "
            f"address={n.address or '-'} {extra}".rstrip()
        )
    return "\n".join(lines) + "\n"


def parse_weights(items: list[str]) -> dict[str, float]:
    weights: dict[str, float] = {}
    for item in items:
        hotkey, sep, value = item.partition("=")
        try:
            weights[hotkey] = float(value)
        except ValueError:
            raise CommandError(f"--set {item!r}: expected HOTKEY=WEIGHT") from None
        if not sep or not hotkey:
            raise CommandError(f"--set {item!r}: expected HOTKEY=WEIGHT")
    if not weights:
        raise CommandError("give weights with --set HOTKEY=WEIGHT (repeat), or --reveal")
    return weights
