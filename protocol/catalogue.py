"""The subnet's executor classes as one catalogue, signed by the subnet owner's hotkey.

Every node applies the newest catalogue it can verify (executor/services/catalogue.py), so all
nodes agree on what each class is, what it costs and what it is worth. The signature covers the
canonical JSON of the catalogue behind a domain prefix, so it can never be replayed as another
signed message of the same key (a DHT record, a handshake)."""

import enum
import hashlib
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field, ValidationError

from protocol.canonical import canonical_json
from protocol.keys import CryptoType, Hotkey, verify_signature
from protocol.types import SS58Address, StrictModel

CATALOGUE_DOMAIN = b"meshwork-catalogue:v1:"
MAX_CLASSES = 256
CLASS_NAME = r"^[a-z0-9]+([._-][a-z0-9]+)*$"  # executor.models.ExecutorClass.name


def _price(value: str) -> str:
    try:
        price = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError("not a decimal") from exc
    if not price.is_finite() or price < 0 or int(price.as_tuple().exponent) < -6:
        raise ValueError("a finite, non-negative decimal with at most 6 places")
    return value


Price = Annotated[str, Field(max_length=32), AfterValidator(_price)]
BenchmarkName = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,32}$")]


class CatalogueClass(StrictModel):
    """One executor class; the bounds are those of executor.models.ExecutorClass."""

    name: str = Field(max_length=64, pattern=CLASS_NAME)
    description: str = Field(default="", max_length=1000)
    cpus: float = Field(ge=0.01, le=256)
    memory_mb: int = Field(ge=16, le=16_777_216)
    pids: int = Field(ge=8, le=4_194_304)
    output_mb: int = Field(ge=1, le=16_777_216)
    gpu_count: int = Field(default=0, ge=0, le=64)
    gpu_model: str = Field(default="", max_length=128)
    gpu_memory_mb: int = Field(default=0, ge=0, le=16_777_216)
    price_per_second: Price  # decimal as text: no float rounding between nodes
    weight: float = Field(ge=0, le=1e9)
    spin_up_s: float = Field(default=10.0, ge=0, le=86_400)
    matmul_n: int = Field(default=2048, ge=16, le=32768)
    pow_difficulty: int = Field(default=16, ge=1, le=40)
    pow_count: int = Field(default=64, ge=1, le=64)
    reference_seconds: dict[BenchmarkName, Annotated[float, Field(gt=0, le=86_400)]] = Field(
        default_factory=dict, max_length=8
    )


def _unique_names(classes: list[CatalogueClass]) -> list[CatalogueClass]:
    names = [c.name for c in classes]
    if len(set(names)) != len(names):
        raise ValueError("class names must be unique")
    return classes


class Catalogue(StrictModel):
    netuid: int = Field(ge=0, le=65535)
    version: int = Field(ge=1)
    issued_at: AwareDatetime
    classes: Annotated[list[CatalogueClass], Field(max_length=MAX_CLASSES), AfterValidator(_unique_names)]


class SignedCatalogue(StrictModel):
    """The envelope that travels (DHT value, files): the catalogue plus its signer's signature."""

    catalogue: Catalogue
    signer: SS58Address
    crypto: CryptoType
    signature: str = Field(pattern=r"^0x[0-9a-f]{2,256}$")


class CatalogueRejection(enum.StrEnum):
    MALFORMED = "malformed"
    WRONG_OWNER = "wrong_owner"
    BAD_SIGNATURE = "bad_signature"
    WRONG_NETUID = "wrong_netuid"


class CatalogueError(Exception):
    def __init__(self, reason: CatalogueRejection, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def catalogue_bytes(catalogue: Catalogue) -> bytes:
    return canonical_json(catalogue.model_dump(mode="json"))


def catalogue_digest(catalogue: Catalogue) -> str:
    """sha256 of the canonical catalogue: equal digests mean identical catalogues."""
    return hashlib.sha256(catalogue_bytes(catalogue)).hexdigest()


def catalogue_sign(*, catalogue: Catalogue, hotkey: Hotkey) -> SignedCatalogue:
    signature = hotkey.sign(CATALOGUE_DOMAIN + catalogue_bytes(catalogue))
    return SignedCatalogue(catalogue=catalogue, signer=hotkey.ss58, crypto=hotkey.crypto, signature=signature)


def catalogue_verify(
    *, envelope: SignedCatalogue | dict[str, Any] | Any, owner_ss58: str, netuid: int | None = None
) -> Catalogue:
    """The catalogue inside `envelope` (a parsed envelope or its JSON) if the subnet owner signed
    it for `netuid` (any netuid when None); raises CatalogueError with the reason otherwise."""
    if not isinstance(envelope, SignedCatalogue):
        try:
            envelope = SignedCatalogue.model_validate(envelope)
        except (ValidationError, RecursionError, ValueError) as exc:
            raise CatalogueError(CatalogueRejection.MALFORMED, _first_error(exc)) from exc
    if not owner_ss58 or envelope.signer != owner_ss58:
        raise CatalogueError(CatalogueRejection.WRONG_OWNER, f"signed by {envelope.signer}, not {owner_ss58 or '-'}")
    data = CATALOGUE_DOMAIN + catalogue_bytes(envelope.catalogue)
    if not verify_signature(ss58=envelope.signer, crypto=envelope.crypto, data=data, signature=envelope.signature):
        raise CatalogueError(CatalogueRejection.BAD_SIGNATURE, "the signature does not match the catalogue")
    if netuid is not None and envelope.catalogue.netuid != netuid:
        raise CatalogueError(CatalogueRejection.WRONG_NETUID, f"for netuid {envelope.catalogue.netuid}, not {netuid}")
    return envelope.catalogue


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError) and exc.errors():
        err = exc.errors()[0]
        return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"[:200]
    return type(exc).__name__
