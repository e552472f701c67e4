import os

# numpy's BLAS would otherwise start a thread per core for the validator's small matmul checks,
# which then fight the bounded verify threads (VALIDATOR_VERIFY_THREADS) for the same cores: 5×
# the CPU per check on 2 cores (bench/RESULTS.md, "Benchmark cycle"). Set before numpy loads; job
# containers are separate processes with their own environment.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from config.celery import app as celery_app  # noqa: E402

__all__ = ["celery_app"]
