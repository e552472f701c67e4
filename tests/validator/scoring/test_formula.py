"""The pure formula: points per class, each penalty, coldkey grouping, normalised weights."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from validator.scoring.formula import (
    ClassInputs,
    Grouping,
    MinerInputs,
    Params,
    Penalty,
    PenaltyReason,
    coldkey_group,
    penalties_compute,
    scores_compute,
    weights_normalise,
)

PARAMS = Params(values={"cpu.small": 1.0, "gpu.a100": 4.0}, manifests_allowed=1)


def honest(hotkey: str, seconds: float, *, coldkey: str = "", cls: str = "cpu.small", eff: float = 1.0) -> MinerInputs:
    return MinerInputs(
        hotkey=hotkey,
        coldkey=coldkey,
        classes={cls: ClassInputs(cls, claimed=2, verified=2, efficiency=eff, organic_seconds=seconds)},
        check_reasons={cls: {"passed": 4}, "": {"passed": 1}},
    )


def test_points_are_value_times_efficiency_times_organic_plus_benchmark_seconds():
    miner = MinerInputs(
        hotkey="5A",
        classes={
            "cpu.small": ClassInputs(
                "cpu.small", verified=1, efficiency=1.2, organic_seconds=100, benchmark_seconds=20
            ),
            "gpu.a100": ClassInputs("gpu.a100", verified=1, efficiency=0.5, organic_seconds=10),
            "gone.class": ClassInputs("gone.class", verified=1, organic_seconds=1000),  # not in the catalogue
        },
    )
    [result] = scores_compute([miner], PARAMS)
    assert [(c.inputs.executor_class, c.value, c.multiplier, c.points) for c in result.classes] == [
        ("cpu.small", 1.0, 1.0, pytest.approx(144.0)),
        ("gone.class", 0.0, 1.0, 0.0),
        ("gpu.a100", 4.0, 1.0, pytest.approx(20.0)),
    ]
    assert result.points == result.score == pytest.approx(164.0)
    assert result.penalties == []
    assert result.grouping == Grouping(coldkey_points=result.points, share=1.0, main_hotkey="5A")


def test_twice_the_verified_work_gets_twice_the_weight():
    results = scores_compute([honest("5A", 200), honest("5B", 400)], PARAMS)
    weights = weights_normalise({r.hotkey: r.score for r in results})
    assert weights["5B"] / weights["5A"] == pytest.approx(2.0, rel=0.05)
    assert sum(weights.values()) == pytest.approx(1.0)


def test_failed_checks_lower_the_class_by_the_failed_share():
    miner = MinerInputs(
        hotkey="5A",
        classes={"cpu.small": ClassInputs("cpu.small", organic_seconds=100)},
        check_reasons={"cpu.small": {"passed": 2, "late": 1, "no_answer": 1, "busy": 4, "uncalibrated": 2}},
    )
    [penalty] = penalties_compute(miner, PARAMS)
    detail = "2 of 4 checks failed (late 1, no_answer 1)"
    assert penalty == Penalty(PenaltyReason.FAILED_CHECKS, detail, "cpu.small", 0.75)
    assert scores_compute([miner], PARAMS)[0].points == pytest.approx(75.0)


@pytest.mark.parametrize("reason", ["wrong_answer", "bad_proof", "over_claimed", "duplicate_host"])
def test_any_cheat_applies_the_cheat_factor(reason):
    miner = MinerInputs(
        hotkey="5A",
        classes={"cpu.small": ClassInputs("cpu.small", organic_seconds=100)},
        check_reasons={"cpu.small": {"passed": 9, reason: 1}},
    )
    penalties = penalties_compute(miner, Params(values=PARAMS.values, cheat_factor=0.1))
    assert penalties == [Penalty(PenaltyReason.CHEATED, f"{reason} 1", "cpu.small", 0.1)]
    assert scores_compute([miner], PARAMS)[0].points == 0.0  # the default factor is 0


def test_a_host_level_cheat_hits_every_class_of_the_miner():
    miner = MinerInputs(
        hotkey="5A",
        classes={c: ClassInputs(c, organic_seconds=100) for c in ("cpu.small", "gpu.a100")},
        check_reasons={"": {"passed": 1, "duplicate_host": 1}},
    )
    result = scores_compute([miner], PARAMS)[0]
    assert [c.multiplier for c in result.classes] == [0.0, 0.0]
    assert [p.as_dict() for p in result.penalties] == [
        {"reason": "cheated", "detail": "duplicate_host 1", "executor_class": "", "factor": 0.0}
    ]


def test_declines_while_free_cost_a_tenth_each_down_to_zero():
    def factor(n: int) -> float:
        miner = MinerInputs(hotkey="5A", declined_free={"cpu.small": n})
        return penalties_compute(miner, PARAMS)[0].factor

    assert [factor(1), factor(3), factor(12)] == [pytest.approx(0.9), pytest.approx(0.7), 0.0]
    assert penalties_compute(MinerInputs(hotkey="5A", declined_free={"cpu.small": 0}), PARAMS) == []


def test_manifests_beyond_the_allowed_rate_cost_each():
    params = Params(values=PARAMS.values, manifests_allowed=2, manifest_change=0.25)
    assert penalties_compute(MinerInputs(hotkey="5A", manifests=2), params) == []
    [penalty] = penalties_compute(MinerInputs(hotkey="5A", manifests=5), params)
    assert (penalty.reason, penalty.executor_class, penalty.factor) == (PenaltyReason.MANIFEST_CHURN, "", 0.25)


def test_a_coldkey_main_hotkey_gets_its_share_and_the_others_the_rest_by_points():
    grouped = coldkey_group({"5A": ("C", 60.0), "5B": ("C", 30.0), "5C": ("C", 10.0), "5D": ("", 5.0)}, 0.8)
    assert {h: round(s, 6) for h, (s, _) in grouped.items()} == {"5A": 80.0, "5B": 15.0, "5C": 5.0, "5D": 5.0}
    b = grouped["5B"][1]
    assert (b.coldkey_points, b.share, b.main_hotkey) == (100.0, pytest.approx(0.15), "5A")
    assert grouped["5D"][1] == Grouping(coldkey_points=5.0, share=1.0, main_hotkey="5D")


def test_coldkey_ties_go_to_the_smallest_hotkey_and_idle_siblings_take_nothing():
    grouped = coldkey_group({"5B": ("C", 10.0), "5A": ("C", 10.0)}, 0.8)
    assert grouped["5A"][1].main_hotkey == "5A"
    assert (grouped["5A"][0], grouped["5B"][0]) == (pytest.approx(16.0), pytest.approx(4.0))
    idle = coldkey_group({"5A": ("C", 10.0), "5B": ("C", 0.0)}, 0.8)
    assert (idle["5A"][0], idle["5B"][0]) == (10.0, 0.0)


def test_weights_sum_to_one_and_are_empty_when_nothing_scored():
    assert weights_normalise({"5A": 0.0, "5B": 0.0}) == {}
    assert weights_normalise({"5A": 1.0, "5B": 3.0}) == {"5A": 0.25, "5B": 0.75}


@given(
    work=st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=4),
    split=st.lists(st.floats(min_value=0.01, max_value=1.0), min_size=1, max_size=6),
    other=st.floats(min_value=0, max_value=1e6),
)
def test_splitting_a_coldkeys_work_across_hotkeys_never_raises_its_total(work, split, other):
    """One operator's seconds on one hotkey, or the same seconds spread over k hotkeys of its
    coldkey: neither its summed score nor its share of the weights goes up."""
    total = sum(work)
    rival = honest("5Rival", other, coldkey="R")
    one = scores_compute([honest("5H0", total, coldkey="C"), rival], PARAMS)
    parts = [total * s / sum(split) for s in split]
    many = scores_compute([*(honest(f"5H{i}", p, coldkey="C") for i, p in enumerate(parts)), rival], PARAMS)

    def mine(results):
        return sum(r.score for r in results if r.coldkey == "C")

    def weight(results):
        weights = weights_normalise({r.hotkey: r.score for r in results})
        return sum(w for h, w in weights.items() if h != "5Rival")

    assert mine(many) <= mine(one) * (1 + 1e-9) + 1e-9
    assert weight(many) <= weight(one) + 1e-9
