"""`manage.py credits add|history|check`: the ledger from the command line; every error is a
one-line CommandError."""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from facilitator.models import CreditAccount, CreditTransaction
from tests.facilitator.factories import CreditAccountFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_add_grants_by_default_and_tops_up_with_topup(capsys):
    user = UserFactory.create(username="dave")
    call_command("credits", "add", "dave", "10", "--note", "welcome")
    assert capsys.readouterr().out == "added 10.000000 (grant) to dave: balance 10.000000\n"
    call_command("credits", "add", "dave", "2.5", "--topup")
    assert capsys.readouterr().out == "added 2.500000 (topup) to dave: balance 12.500000\n"
    rows = CreditTransaction.objects.filter(account__user=user).order_by("id")
    assert list(rows.values_list("kind", "amount", "note", "by")) == [
        ("grant", Decimal(10), "welcome", "command"),
        ("topup", Decimal("2.5"), "", "command"),
    ]


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "amount: must be more than 0 (got 0)"),
        ("-3", "amount: must be more than 0 (got -3)"),
        ("1e12", "amount: 1E+12 is more than the maximum of 1000000000 at once"),
        ("ten", "amount: not a number: 'ten'"),
        ("nan", "amount: not a number: NaN"),
        ("0.0000001", "amount: 1E-7 has more than 6 decimal places"),
    ],
)
def test_add_refuses_bad_amounts_in_one_line(amount, message):
    UserFactory.create(username="erin")
    with pytest.raises(CommandError) as info:
        call_command("credits", "add", "erin", amount)
    assert str(info.value) == message
    assert not CreditAccount.objects.exists()


def test_add_and_history_refuse_an_unknown_user():
    with pytest.raises(CommandError, match=r"^no such user: 'nobody'$"):
        call_command("credits", "add", "nobody", "5")
    with pytest.raises(CommandError, match=r"^no such user: 'nobody'$"):
        call_command("credits", "history", "nobody")
    assert not CreditTransaction.objects.exists()


def test_a_long_note_is_refused():
    UserFactory.create(username="fay")
    with pytest.raises(CommandError, match=r"^note: at most 255 characters$"):
        call_command("credits", "add", "fay", "1", "--note", "n" * 256)


def test_history_prints_the_ledger_newest_first(capsys):
    UserFactory.create(username="gus")
    call_command("credits", "add", "gus", "4")
    call_command("credits", "add", "gus", "1", "--topup", "--note", "card")
    capsys.readouterr()
    call_command("credits", "history", "gus")
    lines = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert lines[0] == ["id", "created_at", "kind", "amount", "balance_after", "job", "note"]
    assert [line[2:] for line in lines[1:]] == [
        ["topup", "1.000000", "5.000000", "-", "card"],
        ["grant", "4.000000", "4.000000", "-", "-"],
    ]


def test_check_passes_and_names_the_accounts_that_do_not_match(capsys):
    UserFactory.create(username="hal")
    call_command("credits", "add", "hal", "4")
    call_command("credits", "check")
    assert capsys.readouterr().out.endswith("every account matches its ledger\n")
    CreditAccountFactory.create(user__username="ivy", balance=Decimal(9))
    with pytest.raises(CommandError, match=r"^1 account\(s\) do not match their ledger$"):
        call_command("credits", "check")
    assert capsys.readouterr().err == ("ivy: balance 9.000000 vs ledger 0; held 0.000000 vs open holds 0\n")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("args", "code", "line"),
    [
        (("add", "nobody", "5"), 1, "CommandError: no such user: 'nobody'"),
        (("add", "jan", "-1"), 1, "CommandError: amount: must be more than 0 (got -1)"),
        (("add", "jan"), 2, "manage.py credits add: error: the following arguments are required: amount"),
    ],
)
def test_from_the_shell_a_mistake_is_one_line_and_never_a_traceback(args, code, line):
    UserFactory.create(username="jan")
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"  # the test database
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": url}
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "manage.py", "credits", *args], env=env, cwd=root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == code
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == line
    if code == 1:  # a CommandError: the line alone
        assert len(done.stderr.splitlines()) == 1
    assert not CreditTransaction.objects.exists()
