"""The executor's services. Entry points (re-exported by `executor.driver`, which the miner imports):

- `executor.services.driver.executor_run_job` — drive one job on one Docker engine.
- `executor.services.sweep.executor_sweep_leftovers` — remove what a crashed executor left behind.
"""
