"""Receipts, scores and weights (docs/scoring.md)."""

from config.env import env

# A running job gets an `interval` receipt (and its user an interval charge) this often.
VALIDATOR_RECEIPT_INTERVAL_S = env.float("VALIDATOR_RECEIPT_INTERVAL_S", default=600.0)
# Pulling every miner's `GET /api/v1/receipts/`: how often, and the bounds on one miner's pull (a
# slow, huge or endless endpoint costs this much and is recorded as that miner's failure).
VALIDATOR_RECEIPT_PULL_S = env.float("VALIDATOR_RECEIPT_PULL_S", default=120.0)
VALIDATOR_RECEIPT_PULL_TIMEOUT_S = env.float("VALIDATOR_RECEIPT_PULL_TIMEOUT_S", default=10.0)
VALIDATOR_RECEIPT_PULL_DEADLINE_S = env.float("VALIDATOR_RECEIPT_PULL_DEADLINE_S", default=60.0)
# Per page body: 1000 receipts (a page's maximum) are ~1.3 MB; a JSON body held as Python objects
# can take ~15× its size, and CONCURRENCY miners are read at once, so this bounds the pull's memory.
VALIDATOR_RECEIPT_PULL_MAX_BYTES = env.int("VALIDATOR_RECEIPT_PULL_MAX_BYTES", default=2 * 1024 * 1024)
VALIDATOR_RECEIPT_PULL_MAX_PAGES = env.int("VALIDATOR_RECEIPT_PULL_MAX_PAGES", default=200)
VALIDATOR_RECEIPT_PULL_CONCURRENCY = env.int("VALIDATOR_RECEIPT_PULL_CONCURRENCY", default=32)
# A miner never pulled before is read from this far back (later pulls resume from its cursor).
VALIDATOR_RECEIPT_PULL_LOOKBACK_S = env.float("VALIDATOR_RECEIPT_PULL_LOOKBACK_S", default=86400.0)
# Slack on the plausibility checks of measured seconds (clocks, the validator's stage leeway).
VALIDATOR_RECEIPT_PLAUSIBLE_SLACK_S = env.float("VALIDATOR_RECEIPT_PLAUSIBLE_SLACK_S", default=60.0)
# A receipt signed further than this in the future is refused (clock skew allowance).
VALIDATOR_RECEIPT_MAX_SKEW_S = env.float("VALIDATOR_RECEIPT_MAX_SKEW_S", default=120.0)
MINER_RECEIPTS_PAGE_SIZE = env.int("MINER_RECEIPTS_PAGE_SIZE", default=500)

# Scores: points = class value × efficiency × (organic + benchmark seconds × BENCHMARK_VALUE) × the
# class's multiplier (penalties). A coldkey's main hotkey gets MAIN_HOTKEY_SHARE of its points.
VALIDATOR_SCORE_TICK_S = env.float("VALIDATOR_SCORE_TICK_S", default=30.0)
# A cycle is scored this long after it ends, so receipts of its last moments reach the miners first.
VALIDATOR_SCORE_GRACE_S = env.float("VALIDATOR_SCORE_GRACE_S", default=60.0)
VALIDATOR_SCORE_BENCHMARK_VALUE = env.float("VALIDATOR_SCORE_BENCHMARK_VALUE", default=1.0)
VALIDATOR_SCORE_MAIN_HOTKEY_SHARE = env.float("VALIDATOR_SCORE_MAIN_HOTKEY_SHARE", default=0.8)
VALIDATOR_PENALTY_FAILED_CHECKS = env.float("VALIDATOR_PENALTY_FAILED_CHECKS", default=0.5)  # × failed share
VALIDATOR_PENALTY_CHEAT_FACTOR = env.float("VALIDATOR_PENALTY_CHEAT_FACTOR", default=0.0)
VALIDATOR_PENALTY_DECLINED_FREE = env.float("VALIDATOR_PENALTY_DECLINED_FREE", default=0.1)  # per decline
VALIDATOR_PENALTY_MANIFEST_CHANGE = env.float("VALIDATOR_PENALTY_MANIFEST_CHANGE", default=0.1)  # per excess
VALIDATOR_MANIFEST_MIN_INTERVAL_S = env.float("VALIDATOR_MANIFEST_MIN_INTERVAL_S", default=7200.0)

# Weights: submitted automatically each cycle (= tempo by default) by a beat task.
VALIDATOR_WEIGHTS_ENABLED = env.bool("VALIDATOR_WEIGHTS_ENABLED", default=True)
VALIDATOR_WEIGHTS_TICK_S = env.float("VALIDATOR_WEIGHTS_TICK_S", default=30.0)

# After a job's end the validator waits this long for the miner to countersign its job_finished
# receipt before it moves on (storing the receipt with no miner signature: never served, never paid).
VALIDATOR_RECEIPT_COUNTERSIGN_WAIT_S = env.float("VALIDATOR_RECEIPT_COUNTERSIGN_WAIT_S", default=5.0)
