"""The daphne command line every serving role runs, with the websocket limits the protocol relies on.

Daphne's own default caps a websocket message (and frame) at 1 MiB, in both directions of the
autobahn protocol: a job report with a few hundred KB of escaped stdout, or a modest output zip,
was refused on `send` and silently lost. Our consumers check each frame against
`PROTOCOL_MAX_FRAME_BYTES` themselves (protocol/wire.py), so daphne is told the same limit."""

from django.conf import settings


def daphne_argv(*, host: str, port: int, extra: list[str] | None = None) -> list[str]:
    """`extra`: more daphne options, such as the TLS endpoint (protocol.tls.daphne_tls_args)."""
    limit = str(int(settings.PROTOCOL_MAX_FRAME_BYTES))
    return [
        "--bind",
        host,
        "--port",
        str(port),
        "--proxy-headers",
        "--websocket-max-message-size",
        limit,
        "--websocket-max-frame-size",
        limit,  # peers send each message as one unfragmented frame
        *(extra or []),
        "config.asgi:application",
    ]
