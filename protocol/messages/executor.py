"""Miner ↔ executor. The executor is a task in the miner's agent driving one job on an executor
host (a Docker engine), so these travel over an in-process queue rather than a socket; they are
typed all the same so an out-of-process executor can speak them unchanged."""

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from protocol.messages.common import JobSpec, Message
from protocol.messages.jobs import (
    ExecutorReady,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobStarted,
    VolumeReady,
)


class ExecutorLimits(Message):
    """Resource limits from the executor class, applied to the job container."""

    cpus: float = Field(gt=0, le=256)
    memory_mb: int = Field(ge=16)
    pids: int = Field(ge=8)
    output_mb: int = Field(ge=1)
    # GPUs handed to the container (Docker device requests); -1: all the engine has (the specs probe).
    gpu_count: int = Field(default=0, ge=-1, le=64)


class ExecutorRun(Message):
    type: Literal["executor.run"] = "executor.run"
    job_uuid: UUID
    spec: JobSpec
    limits: ExecutorLimits


class ExecutorCancel(Message):
    type: Literal["executor.cancel"] = "executor.cancel"
    job_uuid: UUID


MinerToExecutor = Annotated[ExecutorRun | ExecutorCancel, Field(discriminator="type")]
ExecutorToMiner = Annotated[
    ExecutorReady | VolumeReady | JobStarted | JobFinished | JobFailed | JobCancelled,
    Field(discriminator="type"),
]
