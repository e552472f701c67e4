"""The class table and the subnet's signed catalogue (protocol/catalogue.py, docs/catalogue.md).

On the subnet owner's node the table is the source: every admin change publishes a new version
(signed here, put into the DHT by the node's DHT process). Everywhere else the table follows the
newest catalogue verified: classes in it are upserted, classes missing from it are deactivated, so
every path that reads `is_active` (the facilitator's REST, the miner's reserve, the validator's
routing) refuses them."""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from executor.models import CATALOGUE_STATE_PK, CatalogueState, ExecutorClass
from executor.selectors import catalogue_is_owner, executor_class_list
from protocol.catalogue import Catalogue, CatalogueClass, SignedCatalogue, catalogue_digest, catalogue_sign
from protocol.identity import node_hotkey
from protocol.keys import Hotkey

PRICE_PLACES = Decimal("0.000001")  # the model's decimal_places


class CatalogueNotOwner(Exception):
    """Only the node holding SUBNET_OWNER_HOTKEY signs catalogues."""


def _class_item(row: ExecutorClass) -> CatalogueClass:
    return CatalogueClass(
        name=row.name,
        description=row.description,
        cpus=row.cpus,
        memory_mb=row.memory_mb,
        pids=row.pids,
        output_mb=row.output_mb,
        gpu_count=row.gpu_count,
        gpu_model=row.gpu_model,
        gpu_memory_mb=row.gpu_memory_mb,
        price_per_second=str(Decimal(row.price_per_second).quantize(PRICE_PLACES)),
        weight=row.weight,
        spin_up_s=row.spin_up_s,
        matmul_n=row.matmul_n,
        pow_difficulty=row.pow_difficulty,
        pow_count=row.pow_count,
        reference_seconds=row.reference_seconds or {},
    )


def _row_fields(item: CatalogueClass) -> dict[str, Any]:
    fields = item.model_dump(exclude={"name", "price_per_second"})
    fields["price_per_second"] = Decimal(item.price_per_second)
    fields["gpu"] = item.gpu_count > 0
    fields["is_active"] = True
    return fields


def catalogue_build(*, version: int, netuid: int | None = None) -> Catalogue:
    """The active classes of this node's table as catalogue `version` (not signed)."""
    return Catalogue(
        netuid=settings.CHAIN_NETUID if netuid is None else netuid,
        version=version,
        issued_at=timezone.now(),
        classes=[_class_item(row) for row in executor_class_list()],
    )


def _state_locked() -> CatalogueState:
    state, _ = CatalogueState.objects.select_for_update().get_or_create(pk=CATALOGUE_STATE_PK)
    return state


def _state_record(state: CatalogueState, *, catalogue: Catalogue, owner: str, envelope: SignedCatalogue) -> None:
    state.version = catalogue.version
    state.digest = catalogue_digest(catalogue)
    state.owner = owner
    state.applied_at = timezone.now()
    state.envelope = envelope.model_dump(mode="json")
    state.save()


def catalogue_apply(catalogue: Catalogue, *, envelope: SignedCatalogue) -> int:
    """Make the table follow `catalogue` (already verified by the caller) if it is newer than the
    one applied; returns how many classes were created, changed or deactivated (0 when not newer)."""
    with transaction.atomic():
        state = _state_locked()
        if catalogue.version <= state.version:
            return 0
        changed = 0
        for item in catalogue.classes:
            fields = _row_fields(item)
            row, created = ExecutorClass.objects.get_or_create(name=item.name, defaults=fields)
            if not created and any(getattr(row, name) != value for name, value in fields.items()):
                ExecutorClass.objects.filter(pk=row.pk).update(**fields)
                created = True
            changed += created
        names = [item.name for item in catalogue.classes]
        changed += ExecutorClass.objects.filter(is_active=True).exclude(name__in=names).update(is_active=False)
        _state_record(state, catalogue=catalogue, owner=envelope.signer, envelope=envelope)
    return changed


def catalogue_publish(*, hotkey: Hotkey | None = None) -> SignedCatalogue:
    """Owner only: sign the table as the next version and record it; this node's DHT process puts
    it into the DHT on its next round (CATALOGUE_SYNC_S)."""
    hotkey = hotkey or node_hotkey()
    if not settings.SUBNET_OWNER_HOTKEY or hotkey.ss58 != settings.SUBNET_OWNER_HOTKEY:
        raise CatalogueNotOwner(f"{hotkey.ss58} is not SUBNET_OWNER_HOTKEY ({settings.SUBNET_OWNER_HOTKEY or '-'})")
    with transaction.atomic():
        state = _state_locked()
        catalogue = catalogue_build(version=state.version + 1)
        envelope = catalogue_sign(catalogue=catalogue, hotkey=hotkey)
        _state_record(state, catalogue=catalogue, owner=hotkey.ss58, envelope=envelope)
    return envelope


def catalogue_publish_if_changed(*, hotkey: Hotkey | None = None) -> SignedCatalogue | None:
    """Owner only: publish when the table's classes differ from the last published catalogue (edits
    made outside the admin, e.g. from a shell); None when they do not."""
    envelope = CatalogueState.objects.filter(pk=CATALOGUE_STATE_PK).values_list("envelope", flat=True).first()
    current = [_class_item(row) for row in executor_class_list()]
    if envelope is not None and SignedCatalogue.model_validate(envelope).catalogue.classes == current:
        return None
    return catalogue_publish(hotkey=hotkey)


def catalogue_publish_on_commit() -> None:
    """On the owner's node, publish once the current transaction (an admin edit) has committed."""
    if catalogue_is_owner():
        transaction.on_commit(lambda: catalogue_publish(), robust=False)


def executor_class_save(*, executor_class: ExecutorClass) -> ExecutorClass:
    """Save an edited class (gpu follows gpu_count) and publish the catalogue after commit."""
    executor_class.gpu = executor_class.gpu_count > 0
    with transaction.atomic():
        executor_class.save()
        catalogue_publish_on_commit()
    return executor_class


def executor_class_delete(*, executor_class: ExecutorClass) -> None:
    with transaction.atomic():
        executor_class.delete()
        catalogue_publish_on_commit()
