"""The executor's Docker runtime: infrastructure, no models or selectors. Entry points the miner uses:

- `executor.runtime.driver.executor_run_job` — drive one job on one Docker engine.
- `executor.runtime.sweep.executor_sweep_leftovers` — remove what a crashed executor left behind.
"""
