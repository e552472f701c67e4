"""The validator's storage process loop (docs/storage.md): placing, fetching and deleting objects
on miners over signed HTTP. Sync code: the node runs it in worker threads, Celery tasks directly."""
