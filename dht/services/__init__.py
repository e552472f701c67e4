"""Writes to the DHT's tables (sync, called from the DHT process through sync_to_async)."""
