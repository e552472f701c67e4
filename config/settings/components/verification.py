"""How validators verify miners: the benchmark cycle, its deadlines and what it opens."""

from config.env import env

# Cycle length in seconds; 0 means the chain's tempo (tempo × block time). The local network sets
# it from LOCALNET_CYCLE_S. A beat ticker looks every VALIDATOR_CYCLE_TICK_S for a cycle to run.
VALIDATOR_CYCLE_S = env.float("VALIDATOR_CYCLE_S", default=0.0)
VALIDATOR_CYCLE_TICK_S = env.float("VALIDATOR_CYCLE_TICK_S", default=30.0)
# Deadline = the class's spin-up allowance + its reference time × this factor (× the newcomer factor
# for a miner this validator never saw pass). Efficiency = reference / measured, capped.
VALIDATOR_DEADLINE_FACTOR = env.float("VALIDATOR_DEADLINE_FACTOR", default=1.5)
VALIDATOR_NEWCOMER_DEADLINE_FACTOR = env.float("VALIDATOR_NEWCOMER_DEADLINE_FACTOR", default=2.0)
VALIDATOR_EFFICIENCY_CAP = env.float("VALIDATOR_EFFICIENCY_CAP", default=1.5)
# Matmul: rows opened after the commitment (≥ 30: faking 10% of rows then passes < 4% of the time)
# and columns recomputed per row; how long an opening may take once asked for.
VALIDATOR_MATMUL_ROWS = env.int("VALIDATOR_MATMUL_ROWS", default=32)
VALIDATOR_MATMUL_COLUMNS = env.int("VALIDATOR_MATMUL_COLUMNS", default=16)
VALIDATOR_OPENING_TIMEOUT_S = env.float("VALIDATOR_OPENING_TIMEOUT_S", default=15.0)
# Answers this long past their deadline are still read, to be recorded as late (not as missing).
VALIDATOR_LATE_GRACE_S = env.float("VALIDATOR_LATE_GRACE_S", default=10.0)
# Proof-of-work difficulty moves per miner within ± this many bits of the class's own.
VALIDATOR_POW_DIFFICULTY_RANGE = env.int("VALIDATOR_POW_DIFFICULTY_RANGE", default=2)
VALIDATOR_MANIFEST_TIMEOUT_S = env.float("VALIDATOR_MANIFEST_TIMEOUT_S", default=10.0)
# At most this many miners dialed at once, and this many answers verified at once (threads).
VALIDATOR_BENCH_DIAL_CONCURRENCY = env.int("VALIDATOR_BENCH_DIAL_CONCURRENCY", default=64)
VALIDATOR_VERIFY_THREADS = env.int("VALIDATOR_VERIFY_THREADS", default=2)
# One Docker engine behind two hotkeys is one machine answering twice. Off only where miners
# share an engine by design (the local network: one machine, classes sized to fit it).
VALIDATOR_FLAG_SHARED_ENGINES = env.bool("VALIDATOR_FLAG_SHARED_ENGINES", default=True)
# How often the validator node looks for a newly finished benchmark run, to send the facilitator
# its executor census (claimed vs verified per class) after each; also sent on every connect.
VALIDATOR_CENSUS_POLL_S = env.float("VALIDATOR_CENSUS_POLL_S", default=15.0)
