"""Value types every package shares: the one strict model base and the one SS58 address type.

`SS58Address` is a public identity as text; `protocol.keys.Hotkey` is always a private keypair."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# Base58 alphabet; checksums are verified where it matters (`protocol.keys.is_ss58`, signatures).


def _refuse_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("NUL characters are not allowed")
    return text


# Text a node looks up or stores as it came (classes, images, hosts, job arguments): Postgres text
# cannot hold NUL, so a frame carrying one is refused at the wire (MALFORMED), not by the database.
# Captured output (stdout, details) may hold NUL instead: it is replaced where it is stored.
NulFreeText = Annotated[str, AfterValidator(_refuse_nul)]
SS58Address = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[1-9A-HJ-NP-Za-km-z]+$")]


class StrictModel(BaseModel):
    """Unknown fields are an error, not silently dropped; values are immutable once parsed."""

    model_config = ConfigDict(extra="forbid", frozen=True)
