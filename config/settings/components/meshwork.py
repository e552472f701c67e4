"""Meshwork's own knobs. Every value comes from the environment and fails loudly when malformed."""

from config.env import BASE_DIR, env

# Identity: the hotkey file written by `manage.py keygen`.
HOTKEY_PATH = env.path("MESHWORK_HOTKEY_PATH", default=str(BASE_DIR / ".keys" / "hotkey.json"))

# Handshake: how old a signed hello may be, and for how long its nonce is remembered.
HANDSHAKE_MAX_AGE_S = env.float("HANDSHAKE_MAX_AGE_S", default=30.0)
PROTOCOL_MAX_FRAME_BYTES = env.int("PROTOCOL_MAX_FRAME_BYTES", default=64 * 1024 * 1024)

# Facilitator.
FACILITATOR_MAX_INPUT_BYTES = env.int("FACILITATOR_MAX_INPUT_BYTES", default=16 * 1024 * 1024)
# The request body carries the input as base64 (4/3 of its size) plus the rest of the job.
DATA_UPLOAD_MAX_MEMORY_SIZE = FACILITATOR_MAX_INPUT_BYTES * 4 // 3 + 1024 * 1024
FACILITATOR_DEFAULT_CREDITS = env.str("FACILITATOR_DEFAULT_CREDITS", default="0")
FACILITATOR_DISPATCH_STALE_S = env.float("FACILITATOR_DISPATCH_STALE_S", default=60.0)
# The most executor-seconds a validator may report for one job (a job runs 86400 s at most): a
# report claiming more is refused, not billed.
MAX_EXECUTOR_SECONDS = env.float("MAX_EXECUTOR_SECONDS", default=2 * 86400.0)

# Validator.
FACILITATOR_URL = env.str("FACILITATOR_URL", default="")
FACILITATOR_HOTKEY = env.str("FACILITATOR_HOTKEY", default="")
VALIDATOR_MAX_ATTEMPTS = env.int("VALIDATOR_MAX_ATTEMPTS", default=3)
VALIDATOR_QUEUE_TIMEOUT_S = env.float("VALIDATOR_QUEUE_TIMEOUT_S", default=600.0)
# A job every miner is busy for is woken when one of our jobs of its class ends; it asks again
# after this long anyway (slots freed by other validators' jobs or benchmarks wake no one).
VALIDATOR_BUSY_WAIT_S = env.float("VALIDATOR_BUSY_WAIT_S", default=2.0)
VALIDATOR_RESERVE_TIMEOUT_S = env.float("VALIDATOR_RESERVE_TIMEOUT_S", default=10.0)
VALIDATOR_STAGE_LEEWAY_S = env.float("VALIDATOR_STAGE_LEEWAY_S", default=30.0)
# The validator's read-only API: a miner's page lists the checks of its last this many benchmark runs.
VALIDATOR_API_RECENT_CYCLES = env.int("VALIDATOR_API_RECENT_CYCLES", default=5)

# Miner: executor hosts are Docker engines, "local" meaning the local socket (or DOCKER_HOST).
# Format: "name=docker_url;class=count,class=count|name2=...".
MINER_EXECUTOR_HOSTS = env.str("MINER_EXECUTOR_HOSTS", default="local=local;cpu.small=2")
MINER_IMAGE_ALLOWLIST = env.list("MINER_IMAGE_ALLOWLIST", default=[])
# Benchmarks: the image challenges run in, and what a matmul commitment may hold in memory until
# the validator asks for its opening.
MINER_BENCH_IMAGE = env.str("MINER_BENCH_IMAGE", default="meshwork/bench:1")
MINER_BENCH_COMMIT_TTL_S = env.float("MINER_BENCH_COMMIT_TTL_S", default=600.0)
MINER_BENCH_MAX_COMMITS = env.int("MINER_BENCH_MAX_COMMITS", default=64)
MINER_BENCH_MAX_COMMIT_BYTES = env.int("MINER_BENCH_MAX_COMMIT_BYTES", default=1024 * 1024 * 1024)
# A validator may benchmark, not monopolise: at most this many starts per validator per hour (a run
# is two starts; a cycle is at least minutes long), the rest refused with a typed error.
MINER_BENCH_MAX_STARTS_PER_HOUR = env.int("MINER_BENCH_MAX_STARTS_PER_HOUR", default=30)
# Manifest: added executors are announced at most this often (removals go out at once); host
# specs are collected at start-up and then this often.
MINER_MANIFEST_MIN_INTERVAL_S = env.float("MINER_MANIFEST_MIN_INTERVAL_S", default=7200.0)
MINER_SPECS_REFRESH_S = env.float("MINER_SPECS_REFRESH_S", default=3600.0)
# Fair share (docs/market.md): a validator that asked within this many seconds keeps the unused
# part of its stake-proportional share free of other validators' jobs.
MINER_SHARE_WINDOW_S = env.float("MINER_SHARE_WINDOW_S", default=60.0)

# Executor: limits on what a job may bring in and take out.
EXECUTOR_MAX_INPUT_BYTES = env.int("EXECUTOR_MAX_INPUT_BYTES", default=256 * 1024 * 1024)
EXECUTOR_MAX_LOG_BYTES = env.int("EXECUTOR_MAX_LOG_BYTES", default=1024 * 1024)
EXECUTOR_MAX_OUTPUT_BYTES = env.int("EXECUTOR_MAX_OUTPUT_BYTES", default=32 * 1024 * 1024)
EXECUTOR_WORK_DIR = env.path("EXECUTOR_WORK_DIR", default="/var/tmp/meshwork-jobs")
EXECUTOR_URL_FETCH_TIMEOUT_S = env.float("EXECUTOR_URL_FETCH_TIMEOUT_S", default=60.0)
DEFAULT_EXECUTOR_CLASS = "cpu.small"
