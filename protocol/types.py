"""Value types every package shares: the one strict model base and the one SS58 address type.

`SS58Address` is a public identity as text; `protocol.keys.Hotkey` is always a private keypair."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# Base58 alphabet; checksums are verified where it matters (`protocol.keys.is_ss58`, signatures).
SS58Address = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[1-9A-HJ-NP-Za-km-z]+$")]


class StrictModel(BaseModel):
    """Unknown fields are an error, not silently dropped; values are immutable once parsed."""

    model_config = ConfigDict(extra="forbid", frozen=True)
