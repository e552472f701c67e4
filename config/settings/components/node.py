"""Who this process is: its role (checked, config/roles.py), its node's name, and the Redis it
shares with the node's other processes. Read once here; the other components import these."""

from config.env import env
from config.roles import NodeRole, role_parse

# Which role this process plays: facilitator, validator, miner (or "all" in tests and development).
MESHWORK_ROLE = role_parse(env.str("MESHWORK_ROLE", default=NodeRole.ALL))
NODE_NAME = env.str("MESHWORK_NODE_NAME", default=MESHWORK_ROLE.value)

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Every node of a local network shares one Redis; prefixes keep their keys apart.
REDIS_PREFIX = env.str("MESHWORK_REDIS_PREFIX", default=f"meshwork:{NODE_NAME}")

# How long a long-running loop (validator node, consumers, DHT process) keeps retrying a database
# call while Postgres is unreachable (a restart takes seconds) before the call fails for real.
DB_OUTAGE_RETRY_S = env.float("DB_OUTAGE_RETRY_S", default=60.0)
