"""Where the facilitator is and which token to use: `--url/--token`, else `MESHWORK_URL` /
`MESHWORK_TOKEN` (typer reads those), else the local network's `$LOCALNET_DIR/credentials.json`
(default `.localnet/`, written by `make localnet`)."""

import json
import os
from dataclasses import dataclass
from pathlib import Path

from client.cli.errors import CliError


@dataclass(frozen=True)
class Connection:
    url: str
    token: str


def credentials_path() -> Path:
    return Path(os.environ.get("LOCALNET_DIR") or ".localnet") / "credentials.json"


def connection_resolve(*, url: str | None, token: str | None) -> Connection:
    if not (url and token):
        stored = _stored_credentials()
        url = url or stored.url
        token = token or stored.token
    if not url.startswith(("http://", "https://")):
        raise CliError(f"--url must be an http:// or https:// URL, got {url!r}")
    return Connection(url=url, token=token)


def _stored_credentials() -> Connection:
    path = credentials_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise CliError(
            f"no facilitator given: pass --url and --token, set MESHWORK_URL and MESHWORK_TOKEN, "
            f"or start a local network with `make localnet` (no {path})"
        ) from None
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {path}: {exc}") from None
    url, token = (data.get(k) if isinstance(data, dict) else None for k in ("facilitator_url", "api_token"))
    if not (isinstance(url, str) and isinstance(token, str) and url and token):
        raise CliError(f"{path} lacks facilitator_url or api_token")
    return Connection(url=url, token=token)
