"""The mesh: a Kademlia DHT of signed, stake-gated records, persisted in Postgres.

Run per node as `manage.py dht [--bootnode] [--role validator|miner] [--host H --port P]
[--address host:port ...]` (dht/runner.py). Other processes of the node read what it learned via
`dht.selectors` (e.g. `dht_live_nodes(role="miner")`), never by talking to it.

Layout: transport.py (UDP, and why), wire.py (signed envelopes), rpc.py / node.py (RPC and the
inbound pipeline), routing.py (k-buckets), lookup.py / ops.py (iterative lookups, get/store),
records.py / validation.py / schemas.py / stake.py (signed records and the validator chain),
storage.py / persistence.py (memory + Postgres), maintenance.py (refresh, replicate, republish,
sweep), heartbeat.py / discovery.py, commit_reveal.py / cr_loop.py, swarm.py (in-process swarms
for tests and bench/dht_scale.py)."""
