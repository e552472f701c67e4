"""The executor's public entry points, as the miner imports them. The work lives in
`executor/services/` (see `executor.services.driver` for the contract)."""

from executor.services.driver import Emit, executor_run_job
from executor.services.sweep import executor_sweep_leftovers, executor_sweep_leftovers_async

__all__ = ["Emit", "executor_run_job", "executor_sweep_leftovers", "executor_sweep_leftovers_async"]
