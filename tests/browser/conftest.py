"""One real node process per role (daphne, as a node serves its admin), all on one freshly migrated
and seeded database, and Debian's headless Chromium driven by playwright. Screenshots go to
`.artifacts/screenshots/<role>/` (git-ignored; CI keeps the folder as the run's artifacts)."""

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from deploy.localnet.databases import ROOT, database_url, drop_databases, ensure_databases
from deploy.localnet.ports import free_ports
from tests.browser.seed import PASSWORD, USERNAME

CHROMIUM = os.environ.get("MESHWORK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / ".artifacts" / "screenshots"
VIEWPORT: ViewportSize = {"width": 1440, "height": 1000}
TALL: ViewportSize = {"width": 1440, "height": 2200}
ROLES = ("facilitator", "validator", "miner")


def _fresh_database(prefix: str) -> str:
    """A new database cloned from a migrated template, which later runs reuse (migrating only
    what changed), so a run does not pay for every migration."""
    name = f"{prefix}_db"
    drop_databases([name])
    ensure_databases(template=f"{prefix}_template", names=[name], env=_env(""), migrate_existing=False)
    return name


def _env(url: str, role: str = "all") -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": url,
        "CHAIN_DATABASE_URL": "",
        "MESHWORK_ROLE": role,
        "MESHWORK_NODE_NAME": f"browser-{role}",
        "MESHWORK_REDIS_PREFIX": f"meshwork-test:browser:{os.environ.get('MESHWORK_TEST_ID', 'main')}:{role}",
        "FACILITATOR_URL": "ws://127.0.0.1:9/",
        "FACILITATOR_HOTKEY": "5Facilitator",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    return env


@pytest.fixture(scope="module")
def seeded_database() -> Iterator[tuple[str, dict[str, Any]]]:
    """A migrated database with the seed's rows; the figures the pages must show."""
    name = _fresh_database(f"meshwork_browser_{os.environ.get('MESHWORK_TEST_ID', 'main')}")
    url = database_url(name)
    code = "import django; django.setup(); from tests.browser.seed import seed; seed()"
    done = subprocess.run(
        [sys.executable, "-c", code], env=_env(url), cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    yield url, json.loads(done.stdout.strip().splitlines()[-1])
    drop_databases([name])


@pytest.fixture(scope="module")
def nodes(seeded_database: tuple[str, dict[str, Any]]) -> Iterator[dict[str, str]]:
    """Role → base URL of a running node of that role."""
    url, _ = seeded_database
    ports = free_ports(len(ROLES))
    procs = {
        role: subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            env=_env(url, role),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for role, port in zip(ROLES, ports, strict=True)
    }
    bases = {role: f"http://127.0.0.1:{port}" for role, port in zip(ROLES, ports, strict=True)}
    try:
        for role, base in bases.items():
            _wait_up(base, procs[role])
        yield bases
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stderr is not None:
                proc.stderr.close()


def _wait_up(base: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{base} exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if httpx.get(f"{base}/healthz/", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{base} did not answer /healthz/ within 60 s")


# Module scope, not session: playwright's sync API keeps its event loop marked running on this
# thread while it is started, which breaks every later asyncio test of the session.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM} (deploy/setup/ensure-browser.sh installs it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def logged_in(browser: Browser, base: str) -> Page:
    page = browser.new_page(viewport=VIEWPORT, base_url=base)
    page.goto("/admin/login/?next=/admin/")
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    try:
        page.wait_for_url(f"{base}/admin/", timeout=10_000)
    except Exception:
        screenshot(page, "login", "failed", full_page=True)
        raise AssertionError(f"login failed at {page.url}: {page.inner_text('body')[:500]}") from None
    return page


def screenshot(page: Page, role: str, name: str, *, full_page: bool = False) -> Path:
    """`full_page`: a viewport tall enough for a page of charts (playwright's own full-page capture
    loses the theme's fixed sidebar and header)."""
    path = SCREENSHOTS / role / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    if full_page:
        page.set_viewport_size(TALL)
    page.screenshot(path=str(path))
    if full_page:
        page.set_viewport_size(VIEWPORT)
    return path
