"""The verification charts: staff only, and they show what the checks say."""

import pytest

from protocol.messages.benchmarks import CheckReason
from tests.factories import UserFactory
from tests.validator.factories import (
    BenchmarkCheckFactory,
    BenchmarkCycleFactory,
    MinerFactory,
    MinerManifestFactory,
    manifest_message,
)

pytestmark = pytest.mark.django_db
URL = "/admin/verification/"


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True))
    return client


def test_only_staff_see_it(client):
    assert client.get(URL)["Location"].startswith("/admin/login/")
    client.force_login(UserFactory(is_staff=False))
    assert client.get(URL)["Location"].startswith("/admin/login/")


def test_six_charts_even_before_any_run(staff_client):
    html = staff_client.get(URL).content.decode()
    assert html.count('role="img"') == 6
    assert html.count("no data yet") == 6


def test_charts_show_verified_executors_pass_rates_reasons_and_efficiency(staff_client):
    honest, cheat = MinerFactory(hotkey="5Honest" + "h" * 41), MinerFactory(hotkey="5Cheat" + "c" * 42)
    for miner in (honest, cheat):
        MinerManifestFactory(miner=miner, message=manifest_message(h1={"cpu.small": 2}))
    cycle = BenchmarkCycleFactory()
    for index in (0, 1):
        for benchmark in ("pow", "matmul"):
            BenchmarkCheckFactory(
                cycle=cycle, miner=honest, executor=f"h1/cpu.small/{index}", benchmark=benchmark, efficiency=1.2
            )
            BenchmarkCheckFactory(
                cycle=cycle,
                miner=cheat,
                executor=f"h1/cpu.small/{index}",
                benchmark=benchmark,
                passed=benchmark == "pow",
                reason=CheckReason.PASSED if benchmark == "pow" else CheckReason.BAD_PROOF,
                efficiency=0.5 if benchmark == "pow" else None,
            )
    html = staff_client.get(URL).content.decode()
    assert html.count('role="img"') == 6
    assert "no data yet" not in html
    assert ">5Honesthhhhh…<" in html
    assert ">5Cheatcccccc…<" in html
    assert ">bad_proof<" in html
    assert ">50 %<" in html  # matmul: 2 of 4 passed
    assert ">100 %<" in html  # pow: 4 of 4
    assert ">1.2<" in html  # the honest miner's mean efficiency
    assert ">0.5<" in html


def test_the_admin_index_links_to_it(staff_client):
    assert URL in staff_client.get("/admin/").content.decode()
