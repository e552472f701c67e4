"""A stored job as the `JobSpec` validators receive: the one mapping from the row to the wire."""

from facilitator.models import Job
from protocol.messages.common import JobSpec


def job_spec(job: Job) -> JobSpec:
    return JobSpec.model_validate(
        {
            "image": job.image,
            "args": job.args,
            "env": job.env,
            "executor_class": job.executor_class,
            "timeout_s": job.timeout_s,
            "input": job.input,
            "rental": {"ssh_public_key": job.ssh_public_key} if job.kind == Job.Kind.RENTAL else None,
        }
    )
