"""Credits added to an account: grants and top-ups, one ledger row each, the balance moved in the
same transaction with the account row locked. The ledger is append-only (migration 0007), so a
balance is never edited in place: a correction is another row."""

from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F

from facilitator.models import CreditAccount, CreditKind, CreditTransaction

ADD_KINDS = (CreditKind.GRANT, CreditKind.TOPUP)
# Far above any real grant (the local network starts with 10⁵) and far below the column's 10¹⁴,
# so a typo of a few extra digits is refused rather than booked.
MAX_ADD = Decimal(10**9)
NOTE_MAX = CreditTransaction._meta.get_field("note").max_length or 255
BY_MAX = CreditTransaction._meta.get_field("by").max_length or 160


class CreditsRefused(ValueError):
    """Credits that cannot be added; `field` names the argument at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def credits_amount_check(amount: Decimal) -> Decimal:
    """The amount as the ledger stores it (10⁻⁶ credits), or CreditsRefused."""
    try:
        exact = Decimal(amount)
        if not exact.is_finite():
            raise CreditsRefused("amount", f"not a number: {amount}")
        stored = exact.quantize(Decimal("0.000001"))
    except InvalidOperation:
        raise CreditsRefused("amount", f"not a number: {amount}") from None
    if stored != exact:
        raise CreditsRefused("amount", f"{amount} has more than 6 decimal places")
    if exact <= 0:
        raise CreditsRefused("amount", f"must be more than 0 (got {amount})")
    if exact > MAX_ADD:
        raise CreditsRefused("amount", f"{amount} is more than the maximum of {MAX_ADD} at once")
    return stored


def credits_add(*, user: User, amount: Decimal, kind: str, note: str = "", by: str = "") -> CreditTransaction:
    """Adds `amount` (0 < amount ≤ MAX_ADD) as a GRANT or TOPUP; `by` is who did it ("admin
    NAME", "command"). Returns the ledger row; the account is created on the first credit."""
    stored = credits_amount_check(amount)
    if kind not in ADD_KINDS:
        raise CreditsRefused("kind", f"{kind!r} is not one of {', '.join(ADD_KINDS)}")
    for field, text, longest in (("note", note, NOTE_MAX), ("by", by, BY_MAX)):
        if len(text) > longest:
            raise CreditsRefused(field, f"at most {longest} characters")
        if "\x00" in text:  # Postgres text cannot hold it
            raise CreditsRefused(field, "no NUL characters")
    with transaction.atomic():
        account, _ = CreditAccount.objects.select_for_update().get_or_create(user=user)
        CreditAccount.objects.filter(pk=account.pk).update(balance=F("balance") + stored)
        return CreditTransaction.objects.create(account=account, kind=kind, amount=stored, note=note, by=by)
