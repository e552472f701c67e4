"""`manage.py credits add USERNAME AMOUNT [--topup] [--note N] | history USERNAME | check`: credits
added through the ledger's service (never a balance edited in place), a user's ledger, and the
balance-vs-ledger check (exits non-zero on a mismatch)."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from facilitator.models import CreditKind
from facilitator.selectors import credit_balance_get, credit_history, credit_ledger_check
from facilitator.services.ledger import CreditsRefused, credits_add

HISTORY_ROWS = 50
HISTORY_COLUMNS = ("id", "created_at", "kind", "amount", "balance_after", "job", "note")


class Command(BaseCommand):
    help = "Add credits to a user (grant or top-up), print a user's ledger, or check every balance against its ledger."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        add = sub.add_parser("add", help="add credits to a user (a grant; --topup for a top-up)")
        add.add_argument("username")
        add.add_argument("amount")
        add.add_argument("--topup", action="store_true", help="book it as a top-up (bought), not a grant")
        add.add_argument("--note", default="", help="why, kept in the ledger row")
        history = sub.add_parser("history", help="print a user's ledger, newest first")
        history.add_argument("username")
        history.add_argument("--limit", type=int, default=HISTORY_ROWS)
        sub.add_parser("check", help="check every account's balance and held against its ledger and jobs")

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        if verb == "check":
            self._check()
            return
        user = _user(options["username"])
        if verb == "add":
            kind = CreditKind.TOPUP if options["topup"] else CreditKind.GRANT
            try:
                row = credits_add(
                    user=user, amount=_amount(options["amount"]), kind=kind, note=options["note"], by="command"
                )
            except CreditsRefused as exc:
                raise CommandError(f"{exc.field}: {exc.reason}") from None
            balance, _ = credit_balance_get(user=user)
            self.stdout.write(f"added {row.amount} ({row.kind}) to {user.username}: balance {balance}")
        elif verb == "history":
            self.stdout.write("\t".join(HISTORY_COLUMNS))
            for row in credit_history(user=user)[: max(options["limit"], 0)]:
                when = row.created_at.isoformat(timespec="seconds")
                cells = [row.id, when, row.kind, row.amount, row.balance_after, row.job_id or "-", row.note or "-"]
                self.stdout.write("\t".join(str(c) for c in cells))

    def _check(self) -> None:
        mismatches = credit_ledger_check()
        for m in mismatches:
            self.stderr.write(
                f"{m['username']}: balance {m['balance']} vs ledger {m['ledger']}; "
                f"held {m['held']} vs open holds {m['open_holds']}"
            )
        if mismatches:
            raise CommandError(f"{len(mismatches)} account(s) do not match their ledger")
        self.stdout.write("every account matches its ledger")


def _user(username: str) -> User:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"no such user: {username!r}")
    return user


def _amount(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise CommandError(f"amount: not a number: {text!r}") from None
