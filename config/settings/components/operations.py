"""Running a node: the versions it accepts from peers (docs/versions.md), its readiness checks
and Celery liveness (docs/observability.md), and the opt-in auto-update."""

from config.env import env

# The lowest version a peer may run ("" = no floor of our own). The chain's minimum, read by the
# provider below, applies too: the higher of the two wins.
MESHWORK_MIN_VERSION = env.str("MESHWORK_MIN_VERSION", default="")
MESHWORK_MIN_VERSION_PROVIDER = env.str("MESHWORK_MIN_VERSION_PROVIDER", default="chain.selectors.chain_min_version")

# Each /readyz/ check gives up after this long and reports a timeout.
READYZ_CHECK_TIMEOUT_S = env.float("READYZ_CHECK_TIMEOUT_S", default=2.0)
# The Celery worker refreshes a Redis key this often; older than CELERY_ALIVE_MAX_AGE_S = dead.
CELERY_ALIVE_INTERVAL_S = env.float("CELERY_ALIVE_INTERVAL_S", default=10.0)
CELERY_ALIVE_MAX_AGE_S = env.float("CELERY_ALIVE_MAX_AGE_S", default=60.0)

# Opt-in: follow a git remote and upgrade the node (manage.py autoupdate, docs/versions.md).
MESHWORK_AUTO_UPDATE = env.bool("MESHWORK_AUTO_UPDATE", default=False)
AUTO_UPDATE_REMOTE = env.str("AUTO_UPDATE_REMOTE", default="origin")
AUTO_UPDATE_BRANCH = env.str("AUTO_UPDATE_BRANCH", default="main")
AUTO_UPDATE_INTERVAL_S = env.float("AUTO_UPDATE_INTERVAL_S", default=3600.0)
# What restarts the node after an upgrade: "exit" (the supervisor or compose restarts it), or a
# shell command (e.g. "systemctl restart meshwork-miner"); "" = upgrade only.
AUTO_UPDATE_RESTART = env.str("AUTO_UPDATE_RESTART", default="exit")
