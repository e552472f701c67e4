"""Every admin page of every role, in a real headless Chromium: log in, open each page the role's
index and sidebar link to (dashboards, changelists, add forms, the runtime parameters), check what
it shows against the seeded rows, and save a screenshot of it (.artifacts/screenshots/<role>/)."""

import re
from typing import Any

import psycopg
import pytest
from constance.codecs import loads
from playwright.sync_api import Browser, Page

from tests.browser.conftest import logged_in, screenshot
from tests.browser.seed import MINERS

pytestmark = pytest.mark.browser

DASHBOARD = {"facilitator": "/admin/dashboard/", "validator": "/admin/verification/", "miner": "/admin/miner-overview/"}
OTHER_APPS = {
    "facilitator": ("/admin/validator/", "/admin/miner/"),
    "validator": ("/admin/facilitator/", "/admin/miner/"),
    "miner": ("/admin/facilitator/", "/admin/validator/"),
}
# A changelist of the role and a row the seed put in it.
SEEDED_ROWS = {
    "facilitator": ("/admin/facilitator/job/", MINERS[0]),
    "validator": ("/admin/validator/miner/", MINERS[1]),
    "miner": ("/admin/miner/acceptedjob/", "Finished"),
}
# Not pages of their own: session and account links, and the apps' index pages (the sidebar lists
# the same models).
SKIP = re.compile(r"/admin/(logout|password_change|login|jsi18n|r)/|/admin/constance/config/history/")
APP_INDEX = re.compile(r"/admin/[a-z_]+/")
# Every node has these apps' pages, the same code on one schema: opened on the facilitator's node,
# and on the others only checked to be linked (keeps the run short).
SHARED = ("/admin/auth/", "/admin/authtoken/", "/admin/chain/", "/admin/dht/")
CHART_PAGES = {"/admin/dashboard/", "/admin/verification/", "/admin/scores/", "/admin/miner-overview/"}


def _slug(path: str) -> str:
    return path.strip("/").replace("/", "_") or "root"


def _links(page: Page) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href^='/admin/']", "els => els.map(e => e.getAttribute('href'))")
    paths = {h.split("?")[0] for h in hrefs if not SKIP.search(h)}
    return sorted(p for p in paths if p in CHART_PAGES or not APP_INDEX.fullmatch(p))


def _open(page: Page, role: str, path: str, *, full_page: bool = False) -> str:
    response = page.goto(path)
    assert response is not None
    assert response.status == 200, f"{role} {path}: {response.status}"
    text = page.inner_text("body")
    assert "Server Error" not in text
    assert "Traceback" not in text
    screenshot(page, role, _slug(path), full_page=full_page)
    return text


def _kpi(page: Page, key: str) -> str:
    return page.inner_text(f"[data-kpi='{key}'] .meshwork-kpi-value").strip()


@pytest.mark.parametrize("role", ["facilitator", "validator", "miner"])
def test_every_admin_page_of_the_role(browser: Browser, nodes: dict[str, str], role: str) -> None:
    page = logged_in(browser, nodes[role])
    screenshot(page, role, "index", full_page=True)
    links = _links(page)
    assert DASHBOARD[role] in links  # the sidebar's and the index's dashboard link
    assert "/admin/constance/config/" in links
    for other in OTHER_APPS[role]:
        assert not any(link.startswith(other) for link in links), f"{role} lists {other}"
    changelists = [link for link in links if re.fullmatch(r"/admin/[a-z_]+/[a-z_]+/", link)]
    assert SEEDED_ROWS[role][0] in changelists
    for shared in SHARED:
        assert any(link.startswith(shared) for link in links), f"{role} does not list {shared}"
    if role != "facilitator":
        links = [link for link in links if not link.startswith(SHARED)]
    opened = 0
    for path in links:
        _open(page, role, path, full_page=path in CHART_PAGES)
        opened += 1
        add = page.locator(f"a[href='{path}add/']")
        if path in changelists and add.count():
            _open(page, role, f"{path}add/")
            assert page.locator("form button[type=submit], form input[type=submit]").count() >= 1
            opened += 1
    changelist, row = SEEDED_ROWS[role]
    assert row in _open(page, role, changelist)
    assert opened >= len([c for c in changelists if c in links])
    page.close()


def test_the_facilitator_overview_shows_the_seeded_jobs(browser, nodes, seeded_database) -> None:
    figures: dict[str, Any] = seeded_database[1]["facilitator"]
    page = logged_in(browser, nodes["facilitator"])
    _open(page, "facilitator", DASHBOARD["facilitator"], full_page=True)
    assert _kpi(page, "jobs") == str(figures["jobs"])
    assert _kpi(page, "failure-rate") == figures["failure_rate"]
    assert _kpi(page, "miners-online") == str(figures["miners_online"])
    assert _kpi(page, "latency") == figures["latency"]
    for key, value in figures["census"].items():  # executors verified / claimed, per class
        assert _kpi(page, key) == value
    assert page.locator(".meshwork-chart svg").count() == 9
    assert page.locator(".meshwork-chart svg circle").count() >= 5  # points of the line charts
    assert "no data yet" not in page.inner_text(".meshwork-dashboard")
    page.goto(f"{DASHBOARD['facilitator']}?window=7d")
    assert "last 7 days, per day" in page.inner_text(".meshwork-dashboard")
    screenshot(page, "facilitator", "dashboard_7d", full_page=True)
    page.close()


def test_the_validator_pages_show_miners_checks_and_scores(browser, nodes, seeded_database) -> None:
    figures: dict[str, Any] = seeded_database[1]["validator"]
    page = logged_in(browser, nodes["validator"])
    text = _open(page, "validator", DASHBOARD["validator"], full_page=True)
    assert _kpi(page, "miners") == str(figures["miners_active"])
    assert _kpi(page, "claimed") == str(figures["claimed"])
    assert page.locator(".meshwork-chart svg polyline").count() >= 1  # pass rate per cycle
    assert "5Honesthhhhh…" in text
    _open(page, "validator", "/admin/scores/", full_page=True)
    assert page.locator(".meshwork-chart svg").count() == 6
    page.close()


def test_the_miner_overview_shows_executors_jobs_and_credited_seconds(browser, nodes, seeded_database) -> None:
    figures: dict[str, Any] = seeded_database[1]["miner"]
    page = logged_in(browser, nodes["miner"])
    _open(page, "miner", DASHBOARD["miner"], full_page=True)
    assert _kpi(page, "executors") == str(figures["executors"])
    assert _kpi(page, "busy") == str(figures["busy"])
    assert _kpi(page, "jobs") == str(figures["jobs"])
    assert _kpi(page, "credited-seconds") == figures["credited_seconds"]
    assert "cpu.small (1 busy)" in page.inner_text(".meshwork-dashboard")
    page.close()


def test_a_runtime_parameter_saved_in_the_browser_is_stored(browser, nodes, seeded_database) -> None:
    page = logged_in(browser, nodes["miner"])
    _open(page, "miner", "/admin/constance/config/", full_page=True)
    page.fill("input[name=MINER_IMAGE_ALLOWLIST]", "meshwork/*, python")
    page.fill("input[name=MIN_VALIDATOR_STAKE]", "5000")
    page.click("form#changelist-form [type=submit], form [name=_save]")
    page.wait_for_load_state()
    assert "Live settings updated successfully" in page.inner_text("body")
    screenshot(page, "miner", "constance_saved", full_page=True)
    with psycopg.connect(seeded_database[0].replace("postgres://", "postgresql://")) as conn:
        rows: dict[str, str] = dict(conn.execute("SELECT key, value FROM constance_constance").fetchall())
    assert loads(rows["MINER_IMAGE_ALLOWLIST"]) == "meshwork/*, python"
    assert loads(rows["MIN_VALIDATOR_STAKE"]) == 5000
    page.reload()
    assert page.input_value("input[name=MIN_VALIDATOR_STAKE]") == "5000"
    page.close()
