"""The scores and weights charts: staff only, an empty state for each chart, and the plotted series
are the stored scores, weights, class totals and this validator's DHT agreements."""

import pytest

from dht.models import ValidatorAgreement
from protocol.identity import node_hotkey
from tests.factories import UserFactory
from tests.validator.factories import (
    BenchmarkCheckFactory,
    MinerScoreFactory,
    ScoringCycleFactory,
    WeightSubmissionFactory,
    score_class,
)
from validator.dashboard.scores import TOP_MINERS

pytestmark = pytest.mark.django_db
URL = "/admin/scores/"
CHARTS = 6
ALICE, BOB = "5Alice" + "a" * 42, "5Bob" + "b" * 44


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True))
    return client


def test_only_staff_see_it(client):
    assert client.get(URL).status_code == 302
    assert client.get(URL)["Location"].startswith("/admin/login/")
    client.force_login(UserFactory(is_staff=False))
    assert client.get(URL)["Location"].startswith("/admin/login/")


def test_every_chart_says_so_before_any_cycle(staff_client):
    html = staff_client.get(URL).content.decode()
    assert html.count('role="img"') == CHARTS
    assert html.count("no data yet") == CHARTS


def test_without_a_node_key_the_agreement_chart_is_empty_not_an_error(staff_client, settings, tmp_path):
    settings.HOTKEY_PATH = tmp_path / "missing.json"
    node_hotkey.cache_clear()
    response = staff_client.get(URL)
    node_hotkey.cache_clear()
    assert response.status_code == 200
    assert "Agreement of this validator" in response.content.decode()


def _cycle(number: int, *, scores: dict[str, float], status: str = "set", reason: str = "") -> None:
    cycle = ScoringCycleFactory.create(number=number)
    for hotkey, score in scores.items():
        MinerScoreFactory.create(
            cycle=cycle, hotkey=hotkey, score=score, classes=[score_class("cpu.small", claimed=3, verified=2)]
        )
    total = sum(scores.values())
    values = {hotkey: score / total for hotkey, score in scores.items()}
    WeightSubmissionFactory.create(cycle=cycle, status=status, reason=reason, values=values)


def test_charts_plot_scores_weights_classes_and_statuses(staff_client):
    _cycle(1, scores={ALICE: 300.0, BOB: 100.0})
    _cycle(2, scores={ALICE: 200.0, BOB: 200.0}, status="skipped", reason="chain error: Timeout")
    ScoringCycleFactory.create(number=3, finished_at=None)  # in progress: not drawn
    BenchmarkCheckFactory()

    html = staff_client.get(URL).content.decode()

    assert html.count('role="img"') == CHARTS
    assert html.count("no data yet") == 1  # only the DHT agreement: no validator revealed yet
    assert "<title>5Aliceaaaaaa… @ 1: 300</title>" in html  # the score series
    assert "<title>5Aliceaaaaaa… @ 2: 200</title>" in html
    assert "<title>5Bobbbbbbbbb… @ 1: 100</title>" in html
    assert "@ 3:" not in html
    assert "<title>5Aliceaaaaaa… @ 1: 75 %</title>" in html  # the weight series, in %
    assert "<title>5Bobbbbbbbbb… @ 2: 50 %</title>" in html
    assert "<title>2: skipped chain error: Timeout</title>" in html  # the tempo that missed the chain
    assert ">skipped</text>" in html  # the weight submissions by status
    assert ">set</text>" in html
    assert ">1 cycles</text>" in html
    assert ">cpu.small (6)</text>" in html  # the newest cycle: 2 miners × 3 claimed …
    assert ">4</text>" in html  # … 2 × 2 verified
    assert ">100 %</text>" in html  # the pass rate of the one check
    for axis in ("scoring cycle", "score (points)", "weight (%)"):
        assert f">{axis}</text>" in html


def test_the_score_chart_keeps_the_top_miners_of_the_newest_cycle(staff_client):
    _cycle(1, scores={f"5M{i:02d}" + "x" * 44: float(i + 1) for i in range(TOP_MINERS + 3)})
    html = staff_client.get(URL).content.decode()
    assert html.count("<polyline") == 2 * TOP_MINERS  # scores and weights, top 10 each
    for left_out in ("5M00", "5M01", "5M02"):  # the lowest scores
        assert f">{left_out}xxxxxxxx…" not in html
    assert ">5M12xxxxxxxx… 13</text>" in html  # the highest, with its score in the legend


def test_the_agreement_chart_plots_this_validators_pairs_only(staff_client, node_key):
    own = node_key.ss58
    for epoch, agreement in ((10, 0.9), (11, 0.6)):
        ValidatorAgreement.objects.create(
            holder=own, epoch=epoch, validator_a=own, validator_b=ALICE, agreement=agreement, miners=4
        )
    ValidatorAgreement.objects.create(  # BOB is on the other side of the pair
        holder=own, epoch=11, validator_a=BOB, validator_b=own, agreement=0.25, miners=4
    )
    ValidatorAgreement.objects.create(  # a pair without this validator
        holder=own, epoch=11, validator_a=ALICE, validator_b=BOB, agreement=0.01, miners=4
    )
    ValidatorAgreement.objects.create(  # another node's view
        holder=BOB, epoch=11, validator_a=own, validator_b=ALICE, agreement=0.02, miners=4
    )

    html = staff_client.get(URL).content.decode()

    assert "<title>5Aliceaaaaaa… @ 10: 90 %</title>" in html
    assert "<title>5Aliceaaaaaa… @ 11: 60 %</title>" in html
    assert "<title>5Bobbbbbbbbb… @ 11: 25 %</title>" in html
    assert ": 1 %</title>" not in html
    assert ": 2 %</title>" not in html
    assert ">DHT commit-reveal epoch</text>" in html


def test_the_admin_index_and_the_verification_page_link_to_it(staff_client):
    assert URL in staff_client.get("/admin/").content.decode()
    assert URL in staff_client.get("/admin/verification/").content.decode()
