"""Commit-reveal of scores over the DHT: commits frozen at the window's end, reveals checked
against them, pairwise agreement recorded; hostile reveal data is parsed safely."""

import pytest
from asgiref.sync import sync_to_async

from dht.commit_reveal import commit_reveal_step
from dht.engine.interfaces import StakeInfo
from dht.models import ScoreReveal, ValidatorAgreement
from dht.policy.namespaces import reveal_key
from dht.policy.scores import EpochSchedule, scores_digest
from dht.selectors import dht_own_commit_get

pytestmark = pytest.mark.django_db(transaction=True)
SCHEDULE = EpochSchedule(epoch_blocks=100, commit_fraction=0.5, reveal_fraction=0.75)


async def test_commit_reveal_round(make_swarm):
    swarm = await make_swarm(6)
    validators = swarm.nodes[1:5]
    for node in validators:
        swarm.stake.table[node.hotkey.ss58] = StakeInfo(stake=1000, role="validator")
    honest_a, honest_b, cheat, silent = validators
    scores = {
        honest_a: {"m1": 3.0, "m2": 1.0},
        honest_b: {"m1": 1.0, "m2": 1.0},
        cheat: {"m1": 1.0, "m2": 0.0},
        silent: {"m1": 1.0},
    }
    done: dict = {n: set() for n in validators}

    async def step(node, block):
        return await commit_reveal_step(
            node,
            holder=node.hotkey.ss58,
            schedule=SCHEDULE,
            block=block,
            scores=lambda epoch: scores[node],
            ttl_s=600,
            done=done[node],
        )

    epoch_start = 700
    assert [await step(n, epoch_start + 10) for n in validators] == ["commit"] * 4
    assert [await step(n, epoch_start + 20) for n in validators] == [None] * 4  # committed once
    # Reveal window: first step freezes the commits, the next reveals (the silent one never does).
    assert [await step(n, epoch_start + 55) for n in validators] == ["freeze"] * 4
    for node in (honest_a, honest_b, cheat):
        assert await step(node, epoch_start + 60) == "reveal"
    # The cheat overwrites its reveal with scores that do not match its commit.
    own = await _own(cheat)
    await cheat.put(reveal_key(7), {"epoch": 7, "salt": own.salt, "scores": {"m1": 5.0}}, ttl_s=900)
    assert await step(honest_a, epoch_start + 80) == "check"

    holder = honest_a.hotkey.ss58
    verdicts = {r.validator: (r.valid, r.reason) async for r in ScoreReveal.objects.filter(holder=holder, epoch=7)}
    assert verdicts == {
        honest_a.hotkey.ss58: (True, ""),
        honest_b.hotkey.ss58: (True, ""),
        cheat.hotkey.ss58: (False, "reveal does not match the commit"),
        silent.hotkey.ss58: (False, "committed but never revealed"),
    }
    rows = [r async for r in ValidatorAgreement.objects.filter(holder=holder, epoch=7)]
    assert len(rows) == 1
    assert {rows[0].validator_a, rows[0].validator_b} == {honest_a.hotkey.ss58, honest_b.hotkey.ss58}
    assert rows[0].agreement == pytest.approx(0.75)
    assert rows[0].miners == 2
    assert scores_digest(salt=own.salt, scores=scores[cheat]) == own.digest


async def test_hostile_reveals_never_reach_the_checker(make_swarm):
    swarm = await make_swarm(3)
    node = swarm.nodes[1]
    swarm.stake.table[node.hotkey.ss58] = StakeInfo(stake=1000, role="validator")
    hostile = [
        {"epoch": 1, "salt": "00" * 16, "scores": {"m": float("inf")}},
        {"epoch": 1, "salt": "00" * 16, "scores": {"m": 1.0}, "__reduce__": "os.system"},
        {"epoch": 1, "salt": "zz", "scores": {}},
        "cos\nsystem\n(S'echo pwned'\ntR.",  # a pickle, as text: just a string that fails the schema
    ]
    for value in hostile:
        try:
            _, replicas = await node.put(reveal_key(1), value, ttl_s=600)
        except ValueError:
            continue  # non-finite numbers cannot even be encoded canonically
        assert replicas == 0
    assert await swarm.nodes[2].get(reveal_key(1)) == {}


async def _own(node):
    return await sync_to_async(dht_own_commit_get)(holder=node.hotkey.ss58, epoch=7)
