"""Running a node: the versions it accepts from peers (docs/versions.md), its readiness checks
and Celery liveness (docs/observability.md). The opt-in auto-update runs outside the node and
reads its own environment (deploy/autoupdate.py)."""

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
