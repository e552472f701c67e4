from typing import Any

from daphne.cli import CommandLineInterface

from protocol.serving import daphne_argv


def test_daphne_is_told_the_protocol_frame_limit_not_its_own_1_mib(settings: Any) -> None:
    settings.PROTOCOL_MAX_FRAME_BYTES = 64 * 1024 * 1024
    args = CommandLineInterface().parser.parse_args(daphne_argv(host="127.0.0.1", port=8123))

    assert (args.host, args.port, args.application) == ("127.0.0.1", 8123, "config.asgi:application")
    assert args.websocket_max_message_size == 64 * 1024 * 1024
    assert args.websocket_max_frame_size == 64 * 1024 * 1024
    assert args.proxy_headers
