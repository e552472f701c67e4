"""A real HTTP server in a thread that can misbehave: any status, headers, a body sent byte by byte,
no Content-Length. It listens on a given loopback address (127.0.0.2 and ::1 too, for the tests
that need a second host) and records the requests it got, so a test can tell it was never reached."""

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_length: bool = True  # False: the body ends when the connection closes
    drip_s: float = 0.0  # a pause before each byte


@dataclass
class Served:
    base: str  # http://host:port
    port: int
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, Host header)


@contextmanager
def input_server(
    routes: dict[str, Reply], *, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
) -> Iterator[Served]:
    served: Served

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            served.requests.append((self.path, self.headers.get("Host", "")))
            reply = routes.get(self.path, Reply(status=404))
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.content_length and "Content-Length" not in reply.headers:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if not reply.drip_s:
                self.wfile.write(reply.body)
                return
            for byte in reply.body:
                time.sleep(reply.drip_s)
                self.wfile.write(bytes([byte]))
                self.wfile.flush()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client that gave up (a limit or deadline test) is expected

    server = Server((host, port), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    bound = server.server_address[1]
    scheme = "https" if tls is not None else "http"
    served = Served(base=f"{scheme}://{f'[{host}]' if ':' in host else host}:{bound}", port=bound)
    # A short poll: shutdown() waits for it, and the tests start many servers.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
