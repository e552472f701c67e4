"""The opt-in auto-updater (deploy/autoupdate.py) against a local bare repository: it moves a
node's checkout to the new commit, migrates (the test repository's manage.py records it), refuses
local changes and rewritten history, and does nothing when up to date."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.autoupdate import Outcome, UpdateOptions, main, update_once

ROOT = Path(__file__).resolve().parents[2]
# A stand-in for the node's manage.py: `migrate` leaves a line saying which version migrated.
MANAGE = """import sys, pathlib
version = pathlib.Path(__file__).with_name("VERSION").read_text().strip()
with open(pathlib.Path(__file__).with_name("migrations.log"), "a") as log:
    log.write(f"{' '.join(sys.argv[1:])} at {version}\\n")
"""


def _git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env
    ).stdout.strip()


def _commit(upstream: Path, version: str, *, requirements: str = "django\n") -> str:
    (upstream / "VERSION").write_text(version + "\n")
    (upstream / "manage.py").write_text(MANAGE)
    (upstream / "requirements.txt").write_text(requirements)
    (upstream / ".gitignore").write_text("migrations.log\ninstalls.log\nrestarts.log\n")
    _git(upstream, "add", "-A")
    _git(upstream, "commit", "-q", "-m", f"v{version}")
    _git(upstream, "tag", f"v{version}")
    _git(upstream, "push", "-q", "--tags", "origin", "HEAD:main")
    return _git(upstream, "rev-parse", "HEAD")


@pytest.fixture
def repos(tmp_path: Path) -> tuple[Path, Path, str]:
    """A bare remote with v1 pushed, the upstream working copy that pushes, and a node's clone at v1."""
    bare, upstream, node = tmp_path / "remote.git", tmp_path / "upstream", tmp_path / "node"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    subprocess.run(["git", "clone", "-q", str(bare), str(upstream)], check=True, capture_output=True)
    _git(upstream, "checkout", "-q", "-b", "main")
    v1 = _commit(upstream, "1.0.0")
    subprocess.run(["git", "clone", "-q", "-b", "main", str(bare), str(node)], check=True)
    return upstream, node, v1


def _options(node: Path, **extra: str) -> UpdateOptions:
    python = sys.executable
    return UpdateOptions(
        install=f"echo installed >> {node}/installs.log",
        migrate=f"{python} manage.py migrate --noinput",
        restart=f"echo restarted >> {node}/restarts.log",
        **extra,
    )


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_it_moves_to_the_new_commit_migrates_and_restarts(repos):
    upstream, node, v1 = repos
    v2 = _commit(upstream, "2.0.0")
    result = update_once(node, _options(node))
    assert (result.outcome, result.old, result.new) == (Outcome.UPDATED, v1, v2)
    assert _git(node, "rev-parse", "HEAD") == v2
    assert _lines(node / "migrations.log") == ["migrate --noinput at 2.0.0"]  # the new code migrated
    assert _lines(node / "restarts.log") == ["restarted"]
    assert _lines(node / "installs.log") == []  # requirements.txt did not change


def test_changed_requirements_are_installed(repos):
    upstream, node, _ = repos
    _commit(upstream, "2.0.0", requirements="django\nrich\n")
    assert update_once(node, _options(node)).outcome is Outcome.UPDATED
    assert _lines(node / "installs.log") == ["installed"]


def test_up_to_date_does_nothing(repos):
    _, node, v1 = repos
    result = update_once(node, _options(node))
    assert (result.outcome, result.detail) == (Outcome.UP_TO_DATE, f"at {v1[:12]}")
    assert (_lines(node / "migrations.log"), _lines(node / "restarts.log")) == ([], [])


def test_a_dirty_checkout_is_refused(repos):
    upstream, node, v1 = repos
    _commit(upstream, "2.0.0")
    (node / "VERSION").write_text("hand-edited\n")
    result = update_once(node, _options(node))
    assert (result.outcome, result.detail) == (
        Outcome.REFUSED,
        "the checkout has local changes: commit or stash them first",
    )
    assert _git(node, "rev-parse", "HEAD") == v1


def test_rewritten_history_is_refused(repos):
    upstream, node, v1 = repos
    _git(upstream, "commit", "-q", "--amend", "-m", "v1, rewritten")
    _git(upstream, "push", "-q", "--force", "origin", "HEAD:main")
    result = update_once(node, _options(node))
    assert result.outcome is Outcome.REFUSED
    assert result.detail.endswith(f"is not a fast-forward of {v1[:12]} (history rewritten upstream?)")
    assert _git(node, "rev-parse", "HEAD") == v1
    assert _lines(node / "migrations.log") == []


def test_the_tags_channel_follows_the_newest_release(repos):
    upstream, node, _ = repos
    v2 = _commit(upstream, "2.0.0")
    (upstream / "NOTES").write_text("unreleased\n")
    _git(upstream, "add", "-A")
    _git(upstream, "commit", "-q", "-m", "work in progress")
    _git(upstream, "push", "-q", "origin", "HEAD:main")
    result = update_once(node, _options(node, channel="tags"))
    assert (result.outcome, _git(node, "rev-parse", "HEAD")) == (Outcome.UPDATED, v2)


def test_a_failing_migration_stops_with_the_step_named(repos):
    upstream, node, _ = repos
    _commit(upstream, "2.0.0")
    options = UpdateOptions(migrate="exit 3", restart=f"echo restarted >> {node}/restarts.log")
    result = update_once(node, options)
    assert (result.outcome, result.detail) == (Outcome.REFUSED, "migrate failed (exit 3): exit 3")
    assert _lines(node / "restarts.log") == []  # not restarted onto an unmigrated database


def test_the_command_is_off_unless_enabled(repos, monkeypatch, capsys):
    upstream, node, v1 = repos
    _commit(upstream, "2.0.0")
    monkeypatch.delenv("MESHWORK_AUTO_UPDATE", raising=False)
    assert main(["--repo", str(node), "--once"]) == 0
    assert "autoupdate: disabled" in capsys.readouterr().err
    assert _git(node, "rev-parse", "HEAD") == v1


def test_the_command_reports_one_line_and_a_refusal_exits_1(repos, monkeypatch, capsys):
    _, node, _ = repos
    monkeypatch.setenv("MESHWORK_AUTO_UPDATE", "1")
    monkeypatch.setenv("AUTO_UPDATE_REMOTE", "nowhere")
    assert main(["--repo", str(node), "--once"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("autoupdate: refused: git fetch --quiet nowhere main: ")
    assert len(err.splitlines()) == 1
