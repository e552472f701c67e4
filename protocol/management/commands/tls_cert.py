from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from protocol.tls import self_signed_cert_write


class Command(BaseCommand):
    help = (
        "Write a self-signed TLS certificate and its key (mode 0600) for this node and print the "
        "certificate's SHA-256 fingerprint (the one its handshake signs)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cert", type=Path, default=None, help="default: settings.TLS_CERT_PATH")
        parser.add_argument("--key", type=Path, default=None, help="default: settings.TLS_KEY_PATH")
        parser.add_argument("--host", action="append", default=None, help="a name or IP it serves (repeatable)")
        parser.add_argument("--force", action="store_true", help="replace an existing certificate")

    def handle(self, *args: Any, **options: Any) -> None:
        cert = options["cert"] or (Path(settings.TLS_CERT_PATH) if settings.TLS_CERT_PATH else None)
        key = options["key"] or (Path(settings.TLS_KEY_PATH) if settings.TLS_KEY_PATH else None)
        if cert is None or key is None:
            raise CommandError("pass --cert and --key, or set TLS_CERT_PATH and TLS_KEY_PATH")
        if not options["force"] and (cert.exists() or key.exists()):
            raise CommandError(f"{cert} or {key} exists: pass --force to replace it")
        hosts = options["host"] or ["127.0.0.1", "localhost"]
        try:
            digest = self_signed_cert_write(cert_path=cert, key_path=key, common_name=settings.NODE_NAME, hosts=hosts)
        except OSError as exc:
            raise CommandError(f"cannot write the certificate: {exc}") from exc
        self.stdout.write(f"{digest}\n")
        self.stderr.write(f"wrote {cert} and {key} (0600) for {', '.join(hosts)}")
