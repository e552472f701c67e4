from protocol.text import text_for_postgres


def test_nul_bytes_become_replacement_characters() -> None:
    assert text_for_postgres("a\x00b\x00") == "a\ufffdb\ufffd"


def test_text_without_nul_is_unchanged() -> None:
    assert text_for_postgres("plain ✓ text\n") == "plain ✓ text\n"
    assert text_for_postgres("") == ""
