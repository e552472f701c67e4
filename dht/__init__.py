"""The mesh: a Kademlia DHT of signed, stake-gated records, persisted in Postgres.

Run per node as `manage.py dht [--bootnode] [--role validator|miner] [--host H --port P]
[--address host:port ...]` (dht/runner.py). Other processes of the node read what it learned via
`dht.selectors` (e.g. `dht_live_nodes(role="miner")`), never by talking to it.

Three parts, each importing only the ones below it:
- dht/engine/: the Kademlia engine, plain asyncio over UDP (no Django, no chain, no Meshwork
  policy). DhtNode (engine/node.py) owns its operations; record judging, stake and persistence
  come in through engine/interfaces.py. See engine/__init__.py for its modules.
- dht/policy/: Meshwork's record policy: namespaces.py (key prefixes, who may write them, for how
  long), values.py (strict value schemas, NodeState), validation.py (the validator chain:
  expiry → signature → ownership → stake → schema), stake.py (static and cached stake tables),
  scores.py (commit-reveal rules: schedule, digest, agreement).
- the Django glue, here: models.py, services/ (writes), selectors.py (reads), admin.py,
  persistence.py (the engine's persistence hook on Postgres), stake.py (stake from the chain),
  bootnodes.py (settings and chain bootnodes), config.py (settings → DhtConfig), providers.py
  (the role apps' manifest and scores providers), heartbeat.py / discovery.py (heartbeats out and
  in), commit_reveal.py (the validator's commit-reveal rounds), runner.py (the process),
  management/commands/dht.py.

The in-process swarm harness for tests and bench/dht_scale.py is tests/dht/swarm.py."""
