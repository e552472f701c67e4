"""The reads a receipt pull needs (database only): whom to pull from where, which validators count,
what each job's `job_started` receipt promised. Kept here, beside their only user."""

from dataclasses import dataclass
from uuid import UUID

from chain.interface import Role
from chain.selectors import chain_neurons
from dht.selectors import dht_miner_addresses
from protocol.receipts import ReceiptKind
from protocol.tunables import tunable
from validator.models import Miner, ReceiptCursor, ReceiptRecord


@dataclass(frozen=True)
class JobStarted:
    """What a job's `job_started` receipt promised: later receipts of the job must agree with it."""

    validator_hotkey: str
    executor_class: str
    timeout_s: int


def miners_receipt_sources() -> list[tuple[Miner, str]]:
    """Every active miner with an address (the chain's, else its heartbeat's) and the cursor its
    last pull stopped at ("" when never pulled)."""
    announced = dht_miner_addresses()
    cursors = dict(ReceiptCursor.objects.values_list("miner_id", "cursor"))
    sources = []
    for miner in Miner.objects.filter(is_active=True).order_by("pk"):
        miner.address = miner.address or announced.get(miner.hotkey, "")
        if miner.address:
            sources.append((miner, cursors.get(miner.pk, "")))
    return sources


def receipt_validators() -> frozenset[str]:
    """Hotkeys whose receipts count: validators of the subnet with at least MIN_VALIDATOR_STAKE, per
    the synced metagraph (LocalChain's tables on a local chain)."""
    return frozenset(
        n.hotkey for n in chain_neurons() if n.role == Role.VALIDATOR and n.stake >= tunable("MIN_VALIDATOR_STAKE")
    )


def receipt_jobs_started(*, job_uuids: set[UUID]) -> dict[UUID, JobStarted]:
    rows = ReceiptRecord.objects.filter(kind=ReceiptKind.JOB_STARTED, job_uuid__in=job_uuids)
    return {
        r.job_uuid: JobStarted(r.validator_hotkey, r.executor_class, int(r.payload.get("timeout_s", 0)))
        for r in rows.only("job_uuid", "validator_hotkey", "executor_class", "payload")
    }
