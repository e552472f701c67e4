from datetime import timedelta

from config.env import env

_redis = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
_prefix = env.str(
    "MESHWORK_REDIS_PREFIX",
    default=f"meshwork:{env.str('MESHWORK_NODE_NAME', default=env.str('MESHWORK_ROLE', default='all'))}",
)
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=_redis)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": f"{_prefix}:celery:"}
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 60
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# Schedules live in code; every entry expires at its interval so a backlog never piles up.
_ALL_BEAT_ENTRIES = {
    "facilitator-dispatch-pending": {
        "task": "facilitator.tasks.dispatch_pending_jobs",
        "schedule": timedelta(seconds=5),
        "options": {"expires": 5},
    },
    "facilitator-expire-stale": {
        "task": "facilitator.tasks.expire_stale_jobs",
        "schedule": timedelta(seconds=30),
        "options": {"expires": 30},
    },
    "validator-sync-miners": {
        "task": "validator.tasks.sync_miners",
        "schedule": timedelta(seconds=10),
        "options": {"expires": 10},
    },
    "miner-sync-validators": {
        "task": "miner.tasks.sync_validators",
        "schedule": timedelta(seconds=10),
        "options": {"expires": 10},
    },
}

# Each node runs only its own role's schedule (a local network has several roles on one Redis).
_role = env.str("MESHWORK_ROLE", default="all")
CELERY_BEAT_SCHEDULE = {
    name: entry for name, entry in _ALL_BEAT_ENTRIES.items() if _role == "all" or name.startswith(f"{_role}-")
}
