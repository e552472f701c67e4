"""Miner → validator: what a miner offers (its manifest), sent after the handshake and again when it
changes. Everything in it is a claim until benchmarks back it (validator/cycle)."""

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from protocol.catalogue import Price
from protocol.messages.common import Message
from protocol.types import StrictModel

# Bounds keep a manifest small enough to check cheaply: 64 hosts × 16 classes × 256 executors.
MAX_HOSTS = 64
MAX_CLASSES_PER_HOST = 16
MAX_EXECUTORS_PER_CLASS = 256
ClassName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9]+([._-][a-z0-9]+)*$")]


class GpuSpec(StrictModel):
    model: str = Field(max_length=128)
    memory_mb: int = Field(ge=0, le=1 << 24)


class HostSpecs(StrictModel):
    """Collected on the host (Docker engine info, /proc, `nvidia-smi` where present)."""

    cpu_model: str = Field(default="", max_length=200)
    cpu_cores: int = Field(ge=0, le=4096)
    memory_mb: int = Field(ge=0, le=1 << 32)
    disk_mb: int = Field(ge=0, le=1 << 40)
    gpus: list[GpuSpec] = Field(default_factory=list, max_length=64)
    docker_engine_id: str = Field(default="", max_length=128)


class HostStorage(StrictModel):
    """Disk space the host sells (docs/storage.md): a claim; validators count what audits prove."""

    capacity_bytes: int = Field(ge=0, le=1 << 60)
    used_bytes: int = Field(ge=0, le=1 << 60)


class HostManifest(StrictModel):
    name: str = Field(min_length=1, max_length=64)
    executors: dict[ClassName, Annotated[int, Field(ge=0, le=MAX_EXECUTORS_PER_CLASS)]] = Field(
        max_length=MAX_CLASSES_PER_HOST
    )
    specs: HostSpecs
    # Left out (None) when the host sells no space, so such a manifest is byte for byte what it
    # was before storage; a validator from before storage refuses a manifest that carries it.
    storage: HostStorage | None = None

    @model_serializer(mode="wrap")
    def _without_absent_storage(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("storage") is None:
            data.pop("storage", None)
        return data


class ManifestMessage(Message):
    type: Literal["miner.manifest"] = "miner.manifest"
    hosts: list[HostManifest] = Field(max_length=MAX_HOSTS)
    # The least price per executor-second (the catalogue's unit, decimal as text) at which the
    # miner takes jobs of a class (docs/market.md); below it, it declines `unprofitable`. Left out
    # when the miner sets none, so such a manifest (and its digest) is what it was before.
    price_floors: dict[ClassName, Price] | None = Field(default=None, max_length=MAX_CLASSES_PER_HOST * MAX_HOSTS)

    @model_serializer(mode="wrap")
    def _without_absent_floors(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if not data.get("price_floors"):
            data.pop("price_floors", None)
        return data

    def priced_out(self, *, executor_class: str, price: Decimal) -> bool:
        """The miner's floor for the class is above `price`: it would decline the job."""
        floor = (self.price_floors or {}).get(executor_class)
        return floor is not None and Decimal(floor) > price

    def totals(self) -> dict[str, int]:
        """Executors per class over all hosts: the manifest as DESIGN.md's miner API shows it."""
        totals: dict[str, int] = {}
        for host in self.hosts:
            for cls, count in host.executors.items():
                totals[cls] = totals.get(cls, 0) + count
        return totals

    def storage_capacity(self) -> int:
        """Bytes the miner claims to sell, over all hosts."""
        return sum(h.storage.capacity_bytes for h in self.hosts if h.storage is not None)
