def text_for_postgres(text: str) -> str:
    """Text as Postgres can store it."""
    return text.replace("\x00", "\ufffd")
