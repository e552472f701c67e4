"""How `submit --wait` ends: with the job's exit code when it ran to an exit, like `docker run`
otherwise (124 timed out, as `timeout(1)`; 125 the job never ran to an exit: cancelled, rejected,
an infrastructure failure, an image that would not start)."""

from client.sdk import Job

EXIT_JOB_TIMEOUT = 124
EXIT_JOB_DID_NOT_RUN = 125


def job_exit_code(job: Job) -> int:
    if job.exit_code is not None:
        return job.exit_code
    if job.status == "completed":
        return 0
    if job.status == "timeout":
        return EXIT_JOB_TIMEOUT
    return EXIT_JOB_DID_NOT_RUN


def job_failure_line(job: Job) -> str | None:
    """Why a job that did not succeed ended, in one line; None when its exit code says it all."""
    if job.status == "completed" or (job.failure is not None and job.failure.reason == "nonzero_exit"):
        return None
    if job.failure is None:
        return f"job {job.uuid} {job.status}"
    detail = f": {job.failure.detail}" if job.failure.detail else ""
    return f"job {job.uuid} {job.status} ({job.failure.kind} failure, {job.failure.reason}{detail})"
