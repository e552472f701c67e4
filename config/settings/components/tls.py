"""TLS between nodes (docs/tls.md): this node's certificate, the port it serves TLS on, and how
it dials its peers. Off by default, so a node started by hand serves and dials plain, as before."""

from config.env import env

# This node's certificate and key (PEM). With both set it serves TLS on TLS_PORT, signs the
# certificate's fingerprint in its handshake replies and, if TLS_REQUIRED, refuses a websocket
# hello that does not carry that fingerprint (a plain connection, or a man in the middle).
TLS_CERT_PATH = env.str("TLS_CERT_PATH", default="")
TLS_KEY_PATH = env.str("TLS_KEY_PATH", default="")
TLS_PORT = env.int("TLS_PORT", default=0)  # 0: serve no TLS endpoint
TLS_REQUIRED = env.bool("TLS_REQUIRED", default=True)  # only read when a certificate is set
# Dial miners' bare host:port addresses with wss:// (and pull their receipts over https://); an
# address with a scheme decides for itself. When on, a plain ws:// URL is refused before dialing.
TLS_PEERS = env.bool("TLS_PEERS", default=False)
