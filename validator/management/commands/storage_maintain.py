"""`manage.py storage_maintain [--all]`: one audit round (every live share with --all, else what is
due) and one repair round now, as the beat entries run them; prints what happened."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from validator.storage.audit import audits_run_due
from validator.storage.repair import repairs_run_due


class Command(BaseCommand):
    help = "Audit stored shares and repair lost ones now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="audit every live share, due or not")

    def handle(self, *args: Any, **options: Any) -> None:
        audits = audits_run_due(everything=options["all"], limit=100_000)
        repairs = repairs_run_due()
        self.stdout.write(json.dumps({"audits": audits, "repairs": repairs}))
