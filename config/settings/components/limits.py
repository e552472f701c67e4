"""Websocket limits (protocol/consumer.py, protocol/limits.py): frame rates per connection and per
peer, connection attempts per address, and bans for peers that keep sending bad frames.

The defaults sit far above what honest nodes send (docs/limits.md has the figures): a validator's
outbox flushes 100 status updates a batch, a benchmark cycle a few hundred answers and openings."""

from config.env import env
from config.settings.components.node import REDIS_PREFIX

# Frames per second after a burst, on one connection (in-process) and per peer across all its
# connections to this node (Redis).
PROTOCOL_RATE_PER_S = env.float("PROTOCOL_RATE_PER_S", default=1000.0)
PROTOCOL_RATE_BURST = env.int("PROTOCOL_RATE_BURST", default=5000)
PROTOCOL_PEER_RATE_PER_S = env.float("PROTOCOL_PEER_RATE_PER_S", default=2 * PROTOCOL_RATE_PER_S)
PROTOCOL_PEER_RATE_BURST = env.int("PROTOCOL_PEER_RATE_BURST", default=2 * PROTOCOL_RATE_BURST)
# Connection attempts (handshakes) per remote address.
PROTOCOL_HANDSHAKE_RATE_PER_S = env.float("PROTOCOL_HANDSHAKE_RATE_PER_S", default=5.0)
PROTOCOL_HANDSHAKE_BURST = env.int("PROTOCOL_HANDSHAKE_BURST", default=60)
# Loopback peers are not limited by address: every node of a local network, and every client
# behind a reverse proxy on the same host, would share one bucket and one ban.
PROTOCOL_LIMIT_LOOPBACK = env.bool("PROTOCOL_LIMIT_LOOPBACK", default=False)
# This many malformed, refused or over-rate frames (or failed handshakes from one address) within
# the window ban the peer for PROTOCOL_BAN_S.
PROTOCOL_BAN_STRIKES = env.int("PROTOCOL_BAN_STRIKES", default=50)
PROTOCOL_BAN_WINDOW_S = env.float("PROTOCOL_BAN_WINDOW_S", default=60.0)
PROTOCOL_BAN_S = env.float("PROTOCOL_BAN_S", default=600.0)
PROTOCOL_LIMITS_PREFIX = env.str("PROTOCOL_LIMITS_PREFIX", default=f"{REDIS_PREFIX}:limits:")
