"""The validator channel: validators dial in, prove who they are, receive jobs, report status."""

import logging
from typing import Any, ClassVar

from pydantic import TypeAdapter

from chain.selectors import chain_validator_refusal
from facilitator.services.catalogue import CatalogueOfferRefused, catalogue_offer_apply
from facilitator.services.census import executor_census_record
from facilitator.services.dispatch import jobs_dispatch_pending, jobs_resend_to_validator
from facilitator.services.intervals import credits_charge_interval
from facilitator.services.object_retrievals import retrieval_apply_failed
from facilitator.services.objects import (
    object_apply_deleted,
    object_apply_failed,
    object_apply_health,
    object_apply_stored,
    objects_resend_deletes,
)
from facilitator.services.sessions import validator_session_close, validator_session_open
from facilitator.services.status import StatusUpdateRefused, job_apply_status_update
from protocol.consumer import SignedConsumer
from protocol.database import db_sync_to_async
from protocol.logs import bind_job
from protocol.messages.common import ErrorCode, ErrorMessage
from protocol.messages.facilitator import (
    CatalogueOffer,
    ExecutorCensus,
    JobIntervalCharge,
    JobStatusUpdate,
    ValidatorToFacilitator,
)
from protocol.messages.storage import (
    ObjectDeleted,
    ObjectFailed,
    ObjectFetched,
    ObjectHealthUpdate,
    ObjectStored,
    ValidatorStorageMessage,
)

logger = logging.getLogger(__name__)
Incoming = (
    JobStatusUpdate | JobIntervalCharge | CatalogueOffer | ExecutorCensus | ValidatorStorageMessage | ErrorMessage
)


class ValidatorChannelConsumer(SignedConsumer[Incoming]):
    path = "/v1/facilitator/"
    incoming: ClassVar[TypeAdapter[Any]] = TypeAdapter(ValidatorToFacilitator)

    async def authorize(self, peer_hotkey: str) -> str | None:
        return await db_sync_to_async(chain_validator_refusal)(peer_hotkey)

    async def on_authenticated(self) -> None:
        assert self.peer_hotkey is not None
        await db_sync_to_async(validator_session_open)(hotkey=self.peer_hotkey, channel_name=self.channel_name)
        await db_sync_to_async(jobs_resend_to_validator)(hotkey=self.peer_hotkey, channel_name=self.channel_name)
        await db_sync_to_async(jobs_dispatch_pending)()
        await db_sync_to_async(objects_resend_deletes)(hotkey=self.peer_hotkey, channel_name=self.channel_name)

    async def handle(self, message: Incoming) -> None:
        if isinstance(message, ErrorMessage):
            logger.warning("validator %s reported an error: %s %s", self.peer_hotkey, message.code, message.detail)
            return
        assert self.peer_hotkey is not None
        if isinstance(message, CatalogueOffer):
            await self._on_catalogue_offer(message)
            return
        if isinstance(message, ExecutorCensus):
            await db_sync_to_async(executor_census_record)(validator_hotkey=self.peer_hotkey, census=message)
            return
        if isinstance(message, ObjectStored | ObjectFetched | ObjectHealthUpdate | ObjectDeleted | ObjectFailed):
            await self._on_storage(message)
            return
        with bind_job(message.job_uuid):  # sync_to_async carries the binding into the service's thread
            if isinstance(message, JobIntervalCharge):
                await db_sync_to_async(credits_charge_interval)(validator_hotkey=self.peer_hotkey, charge=message)
            else:
                await self._on_status_update(message)

    async def _on_storage(self, message: ValidatorStorageMessage) -> None:
        """Each answer moves its object or retrieval by compare-and-set: resent ones change nothing."""
        assert self.peer_hotkey is not None
        hotkey = self.peer_hotkey
        if isinstance(message, ObjectStored):
            await db_sync_to_async(object_apply_stored)(
                validator_hotkey=hotkey, object_id=message.object_id, health=message.health
            )
        elif isinstance(message, ObjectHealthUpdate):
            await db_sync_to_async(object_apply_health)(
                validator_hotkey=hotkey, object_id=message.object_id, health=message.health
            )
        elif isinstance(message, ObjectDeleted):
            await db_sync_to_async(object_apply_deleted)(validator_hotkey=hotkey, object_id=message.object_id)
        elif isinstance(message, ObjectFailed):
            await db_sync_to_async(object_apply_failed)(validator_hotkey=hotkey, failed=message)
            await db_sync_to_async(retrieval_apply_failed)(validator_hotkey=hotkey, failed=message)
        # ObjectFetched: the PUT of the bytes already ended the retrieval

    async def _on_status_update(self, message: JobStatusUpdate) -> None:
        assert self.peer_hotkey is not None
        try:
            await db_sync_to_async(job_apply_status_update)(validator_hotkey=self.peer_hotkey, update=message)
        except StatusUpdateRefused as exc:
            await self.send_message(ErrorMessage(code=ErrorCode.REFUSED, detail=f"job.status: {exc}"))

    async def _on_catalogue_offer(self, message: CatalogueOffer) -> None:
        assert self.peer_hotkey is not None
        try:
            await db_sync_to_async(catalogue_offer_apply)(envelope=message.envelope, validator_hotkey=self.peer_hotkey)
        except CatalogueOfferRefused as exc:
            await self.send_message(ErrorMessage(code=ErrorCode.REFUSED, detail=f"catalogue.offer: {exc}"))

    async def disconnect(self, code: int) -> None:
        await db_sync_to_async(validator_session_close)(channel_name=self.channel_name)

    async def validator_forward(self, event: dict[str, Any]) -> None:
        """Channel-layer event from services: a ready-encoded message for this validator."""
        await self.send(text_data=event["payload"])
