"""Runs this project's ASGI app under daphne in the current process."""

from daphne.cli import CommandLineInterface


def serve_asgi(*, host: str, port: int) -> None:
    CommandLineInterface().run(["--bind", host, "--port", str(port), "--proxy-headers", "config.asgi:application"])
