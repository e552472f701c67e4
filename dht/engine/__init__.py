"""The Kademlia engine: plain asyncio over UDP, no Django, no chain, no Meshwork policy.

node.py (DhtNode and its operations) wires: server.py (inbound pipeline), peer_client.py (calls),
contacts.py (membership, table upkeep), intake.py (judging and keeping records), lookup.py
(iterative lookups), loops.py (background tasks, periodic jobs). Below them: routing.py (k-buckets),
ids.py, transport.py (UDP, address policy), wire.py (signed envelopes), rpc.py (matching replies),
records.py (signed records), record_store.py (in memory), codec.py (canonical JSON in and out),
replay.py, ratelimit.py, droplog.py, config.py (DhtConfig); signatures are checked by
protocol.keys.verify_signature (public keys cached). What the engine needs
from outside is in interfaces.py: a RecordValidator, a StakeSource and a PersistenceHook."""
