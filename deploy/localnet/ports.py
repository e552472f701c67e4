"""Free loopback ports for a network started with `port_base=None` (tests). Picked below the
kernel's ephemeral range (32768–60999 on Linux), where a node's own outgoing connections take
their local ports: a port picked by binding to 0 and closed again could be taken by one of them
before the node listens on it ("Address already in use"). Each port is free for TCP and UDP (a
node's DHT listens on UDP) and handed out once per process."""

import random
import socket

LOW, HIGH = 20000, 32767  # below net.ipv4.ip_local_port_range's default start
_handed_out: set[int] = set()


def _free(port: int) -> bool:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_ports(count: int, *, rng: random.Random | None = None) -> list[int]:
    rng = rng or random.Random()
    ports: list[int] = []
    for _ in range(50 * count + 100):
        if len(ports) == count:
            return ports
        port = rng.randint(LOW, HIGH)
        if port not in _handed_out and _free(port):
            _handed_out.add(port)
            ports.append(port)
    raise RuntimeError(f"found only {len(ports)} of {count} free loopback ports in {LOW}–{HIGH}")
