"""Meshwork's record policy for the DHT engine: which namespaces exist and what they may hold
(namespaces.py, values.py), the validator chain that judges every record (validation.py), stake
tables (stake.py) and the commit-reveal rules (scores.py). No Django ORM, no chain client: the
glue in dht/ feeds it stake from the chain."""
