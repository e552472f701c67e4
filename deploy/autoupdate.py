"""Opt-in auto-update: follow a git remote's branch (or its newest release tag), and when it moved
ahead, fast-forward this checkout, install the requirements if they changed, migrate, and restart
the node. Off unless MESHWORK_AUTO_UPDATE=1 (docs/versions.md).

    python -m deploy.autoupdate [--repo DIR] [--once]

It runs beside the node, not inside it (it restarts the node): once per AUTO_UPDATE_INTERVAL_S, or
once with --once (cron, a systemd timer). It refuses, saying why, a checkout with local changes
and history that is not a fast-forward (a force-push upstream is for a human to look at). Every
step is a command from the environment, so an installation names its own: AUTO_UPDATE_INSTALL
(default: this Python's pip on requirements.txt), AUTO_UPDATE_MIGRATE (manage.py migrate) and
AUTO_UPDATE_RESTART (default none: the update is applied and the restart left to the operator;
e.g. `docker-compose restart`, `systemctl restart meshwork-miner`)."""

import argparse
import enum
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

DEFAULT_INSTALL = f"{shlex.quote(sys.executable)} -m pip install -r requirements.txt"
DEFAULT_MIGRATE = f"{shlex.quote(sys.executable)} manage.py migrate --noinput"
STEP_TIMEOUT_S = 15 * 60


class Outcome(enum.StrEnum):
    UPDATED = "updated"
    UP_TO_DATE = "up_to_date"
    REFUSED = "refused"


@dataclass(frozen=True)
class UpdateOptions:
    remote: str = "origin"
    branch: str = "main"
    channel: str = "branch"  # "branch": the remote branch's head; "tags": its newest v* release tag
    install: str = DEFAULT_INSTALL
    migrate: str = DEFAULT_MIGRATE
    restart: str = ""

    @classmethod
    def from_env(cls) -> "UpdateOptions":
        env = os.environ
        return cls(
            remote=env.get("AUTO_UPDATE_REMOTE", "origin"),
            branch=env.get("AUTO_UPDATE_BRANCH", "main"),
            channel=env.get("AUTO_UPDATE_CHANNEL", "branch"),
            install=env.get("AUTO_UPDATE_INSTALL", DEFAULT_INSTALL),
            migrate=env.get("AUTO_UPDATE_MIGRATE", DEFAULT_MIGRATE),
            restart=env.get("AUTO_UPDATE_RESTART", ""),
        )


@dataclass(frozen=True)
class UpdateResult:
    outcome: Outcome
    detail: str
    old: str = ""
    new: str = ""


class StepFailed(Exception):
    pass


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=STEP_TIMEOUT_S)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        raise StepFailed(f"git {' '.join(args)}: {tail[0]}")
    return done.stdout.strip()


def _run(repo: Path, step: str, command: str) -> None:
    done = subprocess.run(command, shell=True, cwd=repo, capture_output=True, text=True, timeout=STEP_TIMEOUT_S)  # noqa: S602  # the operator's own command
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        raise StepFailed(f"{step} failed ({command}): {tail[0]}")


def _newest_tag(repo: Path, remote: str) -> str:
    _git(repo, "fetch", "--quiet", "--tags", remote)
    releases = []
    for tag in _git(repo, "tag", "--list", "v*").splitlines():
        try:
            releases.append((Version(tag[1:]), tag))
        except InvalidVersion:
            continue  # not a release tag
    if not releases:
        raise StepFailed(f"no release tags (v<version>) on {remote}")
    return _git(repo, "rev-parse", f"{max(releases)[1]}^{{commit}}")


def _target(repo: Path, options: UpdateOptions) -> str:
    if options.channel == "tags":
        return _newest_tag(repo, options.remote)
    if options.channel != "branch":
        raise StepFailed(f"AUTO_UPDATE_CHANNEL={options.channel!r}: expected branch or tags")
    _git(repo, "fetch", "--quiet", options.remote, options.branch)
    return _git(repo, "rev-parse", "FETCH_HEAD")


def update_once(repo: Path, options: UpdateOptions) -> UpdateResult:
    """One check: fetch, and if the remote moved ahead, upgrade, migrate and restart."""
    try:
        if _git(repo, "status", "--porcelain", "--untracked-files=no"):
            return UpdateResult(Outcome.REFUSED, "the checkout has local changes: commit or stash them first")
        old = _git(repo, "rev-parse", "HEAD")
        new = _target(repo, options)
        if new == old:
            return UpdateResult(Outcome.UP_TO_DATE, f"at {old[:12]}", old, new)
        ahead = subprocess.run(["git", "-C", str(repo), "merge-base", "--is-ancestor", old, new], timeout=60)
        if ahead.returncode != 0:
            detail = f"{new[:12]} is not a fast-forward of {old[:12]} (history rewritten upstream?)"
            return UpdateResult(Outcome.REFUSED, detail, old, new)
        requirements_changed = bool(_git(repo, "diff", "--name-only", old, new, "--", "requirements.txt"))
        _git(repo, "merge", "--quiet", "--ff-only", new)
        if requirements_changed:
            _run(repo, "install", options.install)
        _run(repo, "migrate", options.migrate)
        if options.restart:
            _run(repo, "restart", options.restart)
    except (StepFailed, subprocess.TimeoutExpired) as exc:
        return UpdateResult(Outcome.REFUSED, str(exc))
    restarted = "restarted" if options.restart else "restart the node to run it (AUTO_UPDATE_RESTART unset)"
    return UpdateResult(Outcome.UPDATED, f"{old[:12]} → {new[:12]}; {restarted}", old, new)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.autoupdate", description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--once", action="store_true", help="check once and exit")
    args = parser.parse_args(argv)
    if os.environ.get("MESHWORK_AUTO_UPDATE", "") not in ("1", "true", "yes"):
        print("autoupdate: disabled (set MESHWORK_AUTO_UPDATE=1 to enable)", file=sys.stderr)
        return 0
    options = UpdateOptions.from_env()
    interval_s = float(os.environ.get("AUTO_UPDATE_INTERVAL_S", "3600"))
    while True:
        result = update_once(args.repo, options)
        print(f"autoupdate: {result.outcome}: {result.detail}", file=sys.stderr, flush=True)
        if args.once:
            return 1 if result.outcome is Outcome.REFUSED else 0
        time.sleep(interval_s)


if __name__ == "__main__":
    sys.exit(main())
