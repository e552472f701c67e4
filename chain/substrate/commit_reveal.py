"""Commit-reveal of weights on subtensor (commit_weights, then reveal_weights in the reveal window).

The salt and the weights are written to Postgres before the commit is sent and kept until the
reveal lands, so a restart between the two loses nothing."""

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from django.utils import timezone
from substrateinterface import Keypair

from chain.interface import ChainError, ChainUnavailable, RateLimited
from chain.models import WeightCommit
from chain.services.weight_commits import (
    weight_commit_claim,
    weight_commit_committed,
    weight_commit_create,
    weight_commit_finish,
    weight_commit_release,
    weight_commits_due,
    weight_commits_unconfirmed,
)
from chain.substrate.subtensor_reads import WeightsPolicy, head, read_commits
from chain.substrate.weights import commit_hash, new_salt

if TYPE_CHECKING:
    from chain.substrate.subtensor import SubtensorChain

logger = logging.getLogger(__name__)
Status = WeightCommit.Status
UNCONFIRMED_GRACE = timedelta(minutes=10)  # a commit not on chain by then never landed


def commit(
    chain: "SubtensorChain", *, signer: Keypair, hotkey: str, uids: list[int], values: list[int], policy: WeightsPolicy
) -> WeightCommit:
    salt = new_salt()
    digest = commit_hash(
        account=bytes(signer.public_key),
        netuid=chain.netuid,
        uids=uids,
        values=values,
        salt=salt,
        version_key=policy.version_key,
    )
    row = weight_commit_create(
        chain=chain.name,
        netuid=chain.netuid,
        hotkey=hotkey,
        commit_hash=digest,
        uids=uids,
        values=values,
        salt=salt,
        version_key=policy.version_key,
    )
    try:
        chain.submit(signer, "commit_weights", {"netuid": chain.netuid, "commit_hash": digest})
    except ChainUnavailable:
        raise  # it may have landed: left `committing`, confirmed or failed by the next reveal round
    except ChainError as exc:
        weight_commit_finish(commit=row, status=Status.FAILED, error=f"{exc.name}: {exc}")
        raise
    _confirm(chain, row)
    return row


def _confirm(chain: "SubtensorChain", row: WeightCommit) -> bool:
    """Find the commit on chain and record its reveal window."""
    commits = chain.connection.read(lambda si: read_commits(si, chain.netuid, row.hotkey))
    window = next(((c, first, last) for h, c, first, last in commits if h == row.commit_hash), None)
    if window is None:
        return False
    weight_commit_committed(commit=row, window=window)
    return True


def reveal_due(chain: "SubtensorChain") -> int:
    """Reveal every commit whose window is open; expire those whose window has passed."""
    open_rows = WeightCommit.objects.filter(
        chain=chain.name, netuid=chain.netuid, status__in=[Status.COMMITTING, Status.COMMITTED]
    )
    if not open_rows.exists():
        return 0  # nothing pending: no chain round trip
    for row in weight_commits_unconfirmed(chain=chain.name, netuid=chain.netuid):
        if not _confirm(chain, row) and timezone.now() - row.created_at > UNCONFIRMED_GRACE:
            weight_commit_finish(commit=row, status=Status.FAILED, error="the commit never appeared on chain")
    block = chain.connection.read(lambda si: head(si)[1])
    revealed = 0
    for row in weight_commits_due(chain=chain.name, netuid=chain.netuid, block=block):
        if row.reveal_until_block is not None and block > row.reveal_until_block:
            weight_commit_finish(
                commit=row, status=Status.EXPIRED, error=f"reveal window ended at {row.reveal_until_block}"
            )
            continue
        if weight_commit_claim(commit=row):
            revealed += _reveal(chain, row, block)
    return revealed


def _reveal(chain: "SubtensorChain", row: WeightCommit, block: int) -> int:
    params = {
        "netuid": chain.netuid,
        "uids": row.uids,
        "values": row.values,
        "salt": row.salt,
        "version_key": row.version_key,
    }
    try:
        signer = chain.keyring.signer(row.hotkey, purpose="reveal_weights")
        chain.submit(signer, "reveal_weights", params)
    except (RateLimited, ChainUnavailable) as exc:
        weight_commit_release(commit=row, error=f"{exc.name}: {exc}")
        logger.info("chain: reveal of %s deferred: %s", row.commit_hash, exc)
        return 0
    except ChainError as exc:
        weight_commit_finish(commit=row, status=Status.FAILED, error=f"{exc.name}: {exc}")
        logger.warning("chain: reveal of %s failed: %s", row.commit_hash, exc)
        return 0
    weight_commit_finish(commit=row, status=Status.REVEALED, block=block)
    return 1
