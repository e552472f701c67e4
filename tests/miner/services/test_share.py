"""Stake-proportional shares of a miner's executors: the split, admission within and beyond a
share, the window that keeps shares for recent askers, races, and the long-run fairness."""

import random
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

import miner.services.share
from executor.services.hosts import executor_hosts_parse
from miner.models import AcceptedJob, AccessRule, ExecutorSlot, KnownValidator, ShareDemand
from miner.selectors import share_entitlements, share_standing, validator_refusal
from miner.services.executors import executor_hosts_sync, slot_release
from miner.services.jobs import Decline, job_finish, job_reserve
from miner.services.share import ShareRefused, share_slot_claim
from protocol.keys import hotkey_create
from protocol.messages.miner import ClassStanding, DeclineReason
from tests.factories import signed_reserve
from tests.miner.conftest import MIN_VALIDATOR_STAKE
from tests.miner.factories import AccessRuleFactory, KnownValidatorFactory

pytestmark = pytest.mark.usefixtures("min_validator_stake")
BIG, SMALL = "5Big" + "0" * 44, "5Small" + "0" * 42
SIGNER = hotkey_create()[0]  # job_reserve does not read the signed receipt (the consumer does)


@pytest.fixture
def validators(db):
    KnownValidatorFactory.create(hotkey=BIG, stake=3 * MIN_VALIDATOR_STAKE)
    KnownValidatorFactory.create(hotkey=SMALL, stake=MIN_VALIDATOR_STAKE)


def _slots(count: int) -> None:
    executor_hosts_sync(executor_hosts_parse(f"h1=local;cpu.small={count}"))


def _claim(hotkey: str) -> uuid.UUID:
    job = uuid.uuid4()
    share_slot_claim(validator_hotkey=hotkey, executor_class="cpu.small", job_uuid=job)
    return job


def _refused(hotkey: str) -> ShareRefused:
    with pytest.raises(ShareRefused) as info:
        _claim(hotkey)
    return info.value


def test_entitlement_is_the_stake_split_of_admitted_validators(validators):
    assert share_entitlements(total=8) == {BIG: 6, SMALL: 2}
    AccessRuleFactory.create(kind=AccessRule.Kind.HOTKEY, list=AccessRule.List.BLACKLIST, key=SMALL)
    assert share_entitlements(total=8) == {BIG: 8, SMALL: 0}  # a refused validator keeps nothing idle


@pytest.mark.parametrize(
    "rules",
    [
        [("hotkey", "blacklist", "someone")],
        [("hotkey", "blacklist", BIG)],
        [("coldkey", "blacklist", "cold-small")],
        [("hotkey", "whitelist", SMALL)],
        [("coldkey", "whitelist", "cold-big"), ("hotkey", "blacklist", "someone")],
        [("coldkey", "whitelist", "cold-big"), ("coldkey", "whitelist", "cold-small"), ("hotkey", "whitelist", BIG)],
    ],
)
def test_entitlements_refuse_exactly_whom_admission_refuses(validators, rules):
    KnownValidator.objects.filter(hotkey=BIG).update(coldkey="cold-big")
    KnownValidator.objects.filter(hotkey=SMALL).update(coldkey="cold-small")
    for kind, lst, key in rules:
        AccessRuleFactory.create(kind=kind, list=lst, key=key)
    entitled = share_entitlements(total=4)
    refused = {h for h in (BIG, SMALL) if validator_refusal(h) is not None}
    assert {h for h in (BIG, SMALL) if entitled[h] == 0} == refused
    assert sum(entitled.values()) == (4 if len(refused) < 2 else 0)


def test_below_minimum_stake_is_entitled_to_nothing(validators):
    KnownValidatorFactory.create(hotkey="5Tiny" + "0" * 43, stake=MIN_VALIDATOR_STAKE - 1)
    assert share_entitlements(total=4)["5Tiny" + "0" * 43] == 0
    assert share_entitlements(total=4) == {BIG: 3, SMALL: 1, "5Tiny" + "0" * 43: 0}


def test_a_lone_low_stake_validator_gets_every_executor_of_an_idle_miner(validators):
    _slots(4)
    jobs = [_claim(SMALL) for _ in range(4)]
    assert set(ExecutorSlot.objects.values_list("job_uuid", flat=True)) == set(jobs)
    assert set(ExecutorSlot.objects.values_list("validator_hotkey", flat=True)) == {SMALL}
    assert _refused(SMALL).reason == DeclineReason.BUSY


def test_beyond_its_share_a_validator_leaves_the_unused_share_of_a_recent_asker(validators):
    _slots(4)
    ShareDemand.objects.create(validator_hotkey=BIG, executor_class="cpu.small", asked_at=timezone.now())
    _claim(SMALL)  # within its share of 1
    refusal = _refused(SMALL)
    assert refusal.reason == DeclineReason.OVER_SHARE
    assert refusal.detail == (
        "you hold 1 of 4 cpu.small executors, your share is 1; "
        "the 3 free are kept for validators that hold less than theirs (3)"
    )
    assert ExecutorSlot.objects.filter(validator_hotkey=SMALL).count() == 1


def test_within_its_share_a_validator_takes_any_free_executor(validators):
    _slots(4)
    for _ in range(3):
        _claim(SMALL)  # BIG has not asked: SMALL borrows its share
    _claim(BIG)  # within BIG's share of 3, so the last free one is BIG's whatever SMALL holds
    assert _refused(BIG).reason == DeclineReason.BUSY
    assert _refused(SMALL).reason == DeclineReason.BUSY


def test_a_share_is_kept_only_for_validators_that_asked_within_the_window(validators, settings):
    settings.MINER_SHARE_WINDOW_S = 60.0
    _slots(4)
    long_ago = timezone.now() - timedelta(seconds=61)
    ShareDemand.objects.create(validator_hotkey=BIG, executor_class="cpu.small", asked_at=long_ago)
    for _ in range(4):  # BIG asked 61 s ago: its share is no longer kept
        _claim(SMALL)
    assert ExecutorSlot.objects.filter(validator_hotkey=SMALL).count() == 4


def test_the_window_is_a_tunable(validators, settings):
    _slots(4)
    ShareDemand.objects.create(
        validator_hotkey=BIG, executor_class="cpu.small", asked_at=timezone.now() - timedelta(seconds=61)
    )
    settings.MINER_SHARE_WINDOW_S = 120.0
    _claim(SMALL)
    assert _refused(SMALL).reason == DeclineReason.OVER_SHARE


def test_a_declined_request_counts_as_demand(validators):
    _slots(1)
    _claim(SMALL)
    assert _refused(BIG).reason == DeclineReason.BUSY
    assert ShareDemand.objects.filter(validator_hotkey=BIG, executor_class="cpu.small").exists()


def test_standing_per_class(validators):
    executor_hosts_sync(executor_hosts_parse("h1=local;cpu.small=4,cpu.large=2"))
    _claim(SMALL)
    assert share_standing(validator_hotkey=SMALL) == [
        ClassStanding(executor_class="cpu.large", entitled=0, in_use=0, total=2),  # 0.5 rounds to BIG
        ClassStanding(executor_class="cpu.small", entitled=1, in_use=1, total=4),
    ]
    assert share_standing(validator_hotkey=BIG)[1] == ClassStanding(
        executor_class="cpu.small", entitled=3, in_use=0, total=4
    )


def test_release_frees_the_share(validators):
    _slots(1)
    job = _claim(SMALL)
    slot_release(job_uuid=job)
    assert ExecutorSlot.objects.get().validator_hotkey == ""
    assert share_standing(validator_hotkey=SMALL)[0].in_use == 0


@pytest.mark.parametrize("slots", [4, 8])
def test_two_validators_of_stake_3_to_1_on_a_saturated_miner_get_3_to_1(validators, slots, settings):
    """Through job_reserve and job_finish: both always ask (each round each fills what it may,
    in random order); jobs end at random. Executor time, counted in slot-rounds, splits 3:1 ±10%."""
    settings.MINER_IMAGE_ALLOWLIST = []
    _slots(slots)
    rng = random.Random(7)
    running: dict[uuid.UUID, str] = {}
    held = {BIG: 0, SMALL: 0}
    declines: set[str] = set()
    for _ in range(150):
        for hotkey in rng.sample([BIG, SMALL], 2):
            while True:
                reserve = signed_reserve(validator=SIGNER, miner_hotkey=SIGNER.ss58)
                try:
                    job_reserve(validator_hotkey=hotkey, reserve=reserve)
                except Decline as exc:
                    declines.add(exc.reason)
                    break
                running[reserve.job_uuid] = hotkey
        for job, hotkey in list(running.items()):
            held[hotkey] += 1
            if rng.random() < 0.3:  # this job ends
                job_finish(job_uuid=job, status=AcceptedJob.Status.FINISHED)
                del running[job]
    assert declines == {DeclineReason.BUSY, DeclineReason.OVER_SHARE}
    total = held[BIG] + held[SMALL]
    assert total == slots * 150  # saturated: no executor ever sat idle
    assert held[BIG] / total == pytest.approx(0.75, abs=0.075)
    assert held[SMALL] / total == pytest.approx(0.25, abs=0.025)


@pytest.mark.django_db(transaction=True)
def test_two_processes_reserving_at_once_never_both_take_the_last_executor_of_a_share(validators, monkeypatch):
    """SMALL's share is 1 of 4 and BIG (3) asked recently. Two SMALL reservations race, each held
    up between reading the slots and claiming one: the second must see the first's claim (the slot
    rows are locked), so one is within the share and the other over it."""
    _slots(4)
    ShareDemand.objects.create(validator_hotkey=BIG, executor_class="cpu.small", asked_at=timezone.now())
    slow = share_entitlements

    def entitlements_slowly(*, total: int) -> dict[str, int]:
        time.sleep(0.3)  # both would decide on the same stale view without the lock
        return slow(total=total)

    monkeypatch.setattr(miner.services.share, "share_entitlements", entitlements_slowly)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def reserve() -> None:
        try:
            start.wait()
            _claim(SMALL)
            outcomes.append("ok")
        except ShareRefused as exc:
            outcomes.append(exc.reason)
        finally:
            connection.close()

    threads = [threading.Thread(target=reserve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == sorted(["ok", DeclineReason.OVER_SHARE])
    assert ExecutorSlot.objects.filter(validator_hotkey=SMALL).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_processes_racing_for_the_last_executor_get_it_once(validators):
    _slots(1)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def reserve(hotkey: str) -> None:
        try:
            start.wait()
            _claim(hotkey)
            outcomes.append("ok")
        except ShareRefused as exc:
            outcomes.append(exc.reason)
        finally:
            connection.close()

    threads = [threading.Thread(target=reserve, args=(h,)) for h in (BIG, SMALL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # SMALL's share of one executor is 0: first it is refused over_share (BIG asked too), after BIG busy.
    assert outcomes.count("ok") == 1
    assert set(outcomes) - {"ok"} <= {DeclineReason.BUSY, DeclineReason.OVER_SHARE}
    assert ExecutorSlot.objects.exclude(job_uuid=None).count() == 1


def test_each_request_refreshes_the_demand(validators):
    _slots(2)
    old = timezone.now() - timedelta(hours=1)
    ShareDemand.objects.create(validator_hotkey=SMALL, executor_class="cpu.small", asked_at=old)
    _claim(SMALL)
    [demand] = ShareDemand.objects.filter(validator_hotkey=SMALL)
    assert demand.asked_at > old + timedelta(minutes=59)


def test_a_validator_within_its_share_preempts_the_newest_borrowed_job(validators):
    _slots(4)  # BIG is entitled to 3, SMALL to 1; BIG idle, so SMALL borrowed all 4
    jobs = [_claim(SMALL) for _ in range(4)]
    ExecutorSlot.objects.filter(job_uuid=jobs[2]).update(claimed_at=timezone.now() + timedelta(seconds=5))
    refused = _refused(BIG)
    assert refused.reason == DeclineReason.BUSY
    assert refused.preempt == jobs[2]  # the newest: the least work lost
    assert _refused(SMALL).preempt is None  # beyond its share: it takes nothing back from anyone
