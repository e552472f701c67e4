"""The admin of every role in a real headless Chromium (docs/admin.md)."""
