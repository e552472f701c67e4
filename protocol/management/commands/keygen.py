from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from protocol.keys import KeyFileError, hotkey_create, hotkey_write


class Command(BaseCommand):
    help = "Write a new hotkey file (mode 0600) and print its SS58 address."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--crypto", choices=["sr25519", "ed25519"], default="sr25519")
        parser.add_argument("--path", type=Path, default=None, help="default: settings.HOTKEY_PATH")
        parser.add_argument("--force", action="store_true", help="overwrite an existing key file")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"] or Path(settings.HOTKEY_PATH)
        hotkey, seed = hotkey_create(options["crypto"])
        try:
            hotkey_write(path=path, hotkey=hotkey, seed_hex=seed, overwrite=options["force"])
        except KeyFileError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{hotkey.ss58}\n")
        self.stderr.write(f"wrote {options['crypto']} hotkey to {path}")
