"""What a job's input URL may look like. The facilitator checks it at submit (a 400 naming the
field) and the miner again before fetching (`input_bad_url`), with this one parser, so both read a
URL the same way. Addresses are not judged here: only the fetching node knows its DNS and its own
addresses at fetch time (executor/runtime/input_addresses.py)."""

import httpx

MAX_URL_CHARS = 2000
SCHEMES = frozenset({"http", "https"})


class BadInputUrl(ValueError):
    """The URL cannot be an input URL; `detail` is a fixed sentence, safe to show the user."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def input_url_parse(url: str) -> httpx.URL:
    """The parsed URL, or BadInputUrl. Any port is accepted: the address check at fetch time is
    what keeps a node's private network out of reach (docs/inputs.md, "Inputs from URLs")."""
    if len(url) > MAX_URL_CHARS:
        raise BadInputUrl(f"the URL is longer than {MAX_URL_CHARS} characters")
    if not url.isprintable() or any(c.isspace() for c in url):
        raise BadInputUrl("the URL holds spaces or control characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:  # ValueError: e.g. a host IDNA cannot encode
        raise BadInputUrl("not a valid URL") from exc
    if parsed.scheme not in SCHEMES:
        raise BadInputUrl("only http:// and https:// URLs are fetched")
    if not parsed.host:
        raise BadInputUrl("the URL names no host")
    if parsed.userinfo:
        raise BadInputUrl("credentials in the URL (user:password@) are not accepted")
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise BadInputUrl("the port must be between 1 and 65535")
    return parsed
