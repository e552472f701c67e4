"""The executor's services. Public entry points:

- `executor.services.driver.executor_run_job` — drive one job on one Docker engine.
- `executor.services.sweep.executor_sweep_leftovers` — remove what a crashed executor left behind.
"""
