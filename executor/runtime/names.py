"""Names and labels of what a job leaves on an engine or on disk, so cleanup and the sweep find it.

Names embed a hash of the owner: two miners sharing one engine may both hold an attempt of the
same job (a retry while the first attempt is still being torn down)."""

import hashlib
import re
from pathlib import Path
from uuid import UUID

from django.conf import settings

LABEL_JOB = "meshwork.job"
LABEL_OWNER = "meshwork.owner"
# The job runs as nobody; /output is made writable for exactly this user.
JOB_UID = 65534
JOB_GID = 65534


def _owner_hash(owner: str) -> str:
    return hashlib.sha256(owner.encode()).hexdigest()[:10]


def container_name(*, job_uuid: UUID, owner: str) -> str:
    return f"meshwork-{job_uuid}-{_owner_hash(owner)}"


def job_labels(*, job_uuid: UUID, owner: str) -> dict[str, str]:
    return {LABEL_JOB: str(job_uuid), LABEL_OWNER: owner}


def owner_work_dir(owner: str) -> Path:
    readable = re.sub(r"[^A-Za-z0-9_.-]", "_", owner)[:48]
    return Path(settings.EXECUTOR_WORK_DIR) / f"{readable}-{_owner_hash(owner)}"


def job_work_dir(*, job_uuid: UUID, owner: str) -> Path:
    return owner_work_dir(owner) / str(job_uuid)
