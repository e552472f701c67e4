"""The one syntax check for input URLs, shared by the facilitator (400) and the miner (input_bad_url)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.input_urls import BadInputUrl, input_url_parse


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [
        ("https://example.com/in.zip", "example.com", None),
        ("HTTP://Example.COM:8080/a?b=c#frag", "example.com", 8080),
        ("http://[2001:4860::8888]:81/x", "2001:4860::8888", 81),
        ("https://bücher.de/x.zip", "bücher.de", None),
    ],
)
def test_a_good_url_is_parsed(url: str, host: str, port: int | None) -> None:
    parsed = input_url_parse(url)
    assert (parsed.host, parsed.port) == (host, port)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://example.com/x", "only http:// and https://"),
        ("file:///etc/passwd", "only http:// and https://"),
        ("gopher://example.com:70/", "only http:// and https://"),
        ("http:///x", "names no host"),
        ("https://user:pw@example.com/x", "credentials"),
        ("https://user@example.com/x", "credentials"),
        ("https://example.com\\@127.0.0.1/", "credentials"),  # parsers disagree on this one: refuse
        ("https://example.com:0/", "between 1 and 65535"),
        ("https://example.com:70000/", "between 1 and 65535"),
        ("http://[::1/x", "not a valid URL"),
        ("https://example.com/a b", "spaces or control"),
        ("https://example.com/\x00", "spaces or control"),
        ("https://example.com/" + "a" * 2000, "longer than 2000"),
    ],
)
def test_a_bad_url_is_refused_with_a_fixed_reason(url: str, says: str) -> None:
    with pytest.raises(BadInputUrl) as caught:
        input_url_parse(url)
    assert says in caught.value.detail


@given(st.text(max_size=60).map(lambda tail: "https://" + tail) | st.text(max_size=60))
def test_any_text_is_parsed_or_refused_never_crashes(url: str) -> None:
    refusal = ""
    try:
        parsed = input_url_parse(url)
    except BadInputUrl as refused:
        refusal = refused.detail
    if not refusal:
        assert parsed.scheme in ("http", "https")
        assert parsed.host
