"""Text that arrives over the wire and is stored in Postgres."""


def text_for_postgres(text: str) -> str:
    """Containers may print NUL bytes; Postgres text cannot hold them, so they become U+FFFD."""
    return text.replace("\x00", "\ufffd")
