"""The subnet's catalogue, as validators offer it (docs/catalogue.md). The facilitator runs no DHT
process, so its class table (what users may ask for, at what price) follows the catalogues its
validators applied. It trusts no validator for them: each offer is verified against
SUBNET_OWNER_HOTKEY and this netuid, and applied only if newer than the one applied."""

import functools
import logging

from django.conf import settings

from executor.selectors import catalogue_is_owner, catalogue_state_get
from executor.services.catalogue import catalogue_apply
from protocol.catalogue import CatalogueError, SignedCatalogue, catalogue_digest, catalogue_verify

logger = logging.getLogger(__name__)
STALE = "stale"


class CatalogueOfferRefused(Exception):
    """The offer is not applied: `reason` is a CatalogueRejection value or STALE."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@functools.cache
def _log_no_owner() -> None:
    logger.warning("catalogue: SUBNET_OWNER_HOTKEY is not set; ignoring the catalogues validators offer")


def catalogue_offer_apply(*, envelope: SignedCatalogue, validator_hotkey: str) -> int | None:
    """Apply a catalogue `validator_hotkey` offered; returns its version if applied, None when there
    is nothing to do (no SUBNET_OWNER_HOTKEY, this node is the owner, or the same catalogue is
    already applied). Raises CatalogueOfferRefused for a forged, foreign-netuid or stale offer."""
    owner = settings.SUBNET_OWNER_HOTKEY
    if not owner:
        _log_no_owner()
        return None
    if catalogue_is_owner():
        return None  # the owner's own table is the source
    try:
        catalogue = catalogue_verify(envelope=envelope, owner_ss58=owner, netuid=settings.CHAIN_NETUID)
    except CatalogueError as exc:
        raise _refused(validator_hotkey, reason=exc.reason, detail=exc.detail) from exc
    state = catalogue_state_get()
    if catalogue.version == state.version and catalogue_digest(catalogue) == state.digest:
        return None  # every validator offers the catalogue it applied: the same one is no news
    if catalogue.version <= state.version:
        detail = f"version {catalogue.version} is not newer than the applied version {state.version}"
        raise _refused(validator_hotkey, reason=STALE, detail=detail)
    changed = catalogue_apply(catalogue, envelope=envelope)
    logger.info(
        "catalogue: applied version %d offered by %s (%d classes changed)", catalogue.version, validator_hotkey, changed
    )
    return catalogue.version


def _refused(validator_hotkey: str, *, reason: str, detail: str) -> CatalogueOfferRefused:
    logger.warning("catalogue: refused the offer of %s: %s: %s", validator_hotkey, reason, detail)
    return CatalogueOfferRefused(reason, detail)
