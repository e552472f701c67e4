import os

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, NODE_NAME

# Each pytest-xdist worker (or MESHWORK_TEST_ID) gets its own Redis prefix so parallel runs never share channels.
_worker = os.environ.get("PYTEST_XDIST_WORKER") or os.environ.get("MESHWORK_TEST_ID", "main")
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")],
            "prefix": f"meshwork-test:{_worker}:{NODE_NAME}:asgi",
        },
    }
}
DATABASES["default"]["TEST"] = {"NAME": f"test_meshwork_{_worker}"}
CELERY_TASK_ALWAYS_EAGER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
HANDSHAKE_MAX_AGE_S = 30.0
REST_FRAMEWORK_THROTTLE = None
# Bans and buckets of this run only (the shared Redis also serves other runs and local networks).
PROTOCOL_LIMITS_PREFIX = f"meshwork-test:{_worker}:{NODE_NAME}:limits:"

# Peers of any version in tests, unless one sets a minimum (the chain provider reads the database).
MESHWORK_MIN_VERSION_PROVIDER = ""

# Each test starts from no overrides (tests/conftest.py) and sees a save through constance at once
# (its signal); no test waits for the refresh.
TUNABLES_REFRESH_S = 3600.0
