"""An in-process Substrate JSON-RPC node for substrate-interface: real metadata (spec 343), a
storage dict the test fills with SCALE-encoded values, and a record of submitted extrinsics.

substrate-interface accepts any object with send/recv/close as its websocket, so no server runs."""

import json
from collections import deque
from typing import Any

from substrateinterface.utils.hasher import blake2_128_concat, two_x64_concat, xxh128

GENESIS = "0x" + "00" * 32
HEAD = "0x" + "22" * 32
INCLUDED = "0x" + "33" * 32
EVENTS_KEY = "0x" + xxh128(b"System").hex() + xxh128(b"Events").hex()


class FakeNode:
    def __init__(self, metadata_hex: str, *, spec_version: int = 343, block: int = 1000) -> None:
        self.metadata_hex = metadata_hex
        self.spec_version = spec_version
        self.block = block
        self.storage: dict[str, str] = {}
        self.requests: list[dict[str, Any]] = []
        self.submitted: list[str] = []  # extrinsic hex, in order
        self.events_hex = "0x00"  # System.Events of the block that includes the next extrinsic
        self.broken: set[str] = set()  # methods answered with garbage
        self._out: deque[str] = deque()

    # --- the websocket surface substrate-interface uses
    def send(self, data: str) -> None:
        request = json.loads(data)
        self.requests.append(request)
        method, params = request["method"], request["params"] or []
        if method == "author_submitAndWatchExtrinsic":
            self.submitted.append(params[0])
            self._reply(request["id"], "sub-1")
            note = {"subscription": "sub-1", "result": {"inBlock": INCLUDED}}
            self._out.append(json.dumps({"jsonrpc": "2.0", "method": "author_extrinsicUpdate", "params": note}))
            return
        self._reply(request["id"], "0xdeadbeef" if method in self.broken else self.answer(method, params))

    def recv(self) -> str:
        return self._out.popleft()

    def close(self) -> None:
        pass

    def _reply(self, request_id: int, result: Any) -> None:
        self._out.append(json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}))

    # --- the node
    def answer(self, method: str, params: list[Any]) -> Any:
        header = {
            "parentHash": GENESIS,
            "number": hex(self.block),
            "stateRoot": GENESIS,
            "extrinsicsRoot": GENESIS,
            "digest": {"logs": []},
        }
        answers: dict[str, Any] = {
            "chain_getHeader": header,
            "chain_getBlockHash": HEAD,
            "chain_getFinalizedHead": HEAD,
            "chain_getFinalisedHead": HEAD,
            "state_getRuntimeVersion": {"specVersion": self.spec_version, "transactionVersion": 1},
            "chain_getRuntimeVersion": {"specVersion": self.spec_version, "transactionVersion": 1},
            "state_getMetadata": self.metadata_hex,
            "system_chain": "Bittensor",
            "system_properties": {"ss58Format": 42, "tokenDecimals": 9, "tokenSymbol": "TAO"},
            "rpc_methods": {"methods": []},
            "author_unwatchExtrinsic": True,
            "chain_getBlock": {"block": {"header": header, "extrinsics": self.submitted[-1:]}, "justifications": None},
        }
        if method in answers:
            return answers[method]
        if method in ("state_getStorage", "state_getStorageAt"):
            key = params[0]
            return self.events_hex if key == EVENTS_KEY else self.storage.get(key)
        if method == "state_getKeysPaged":
            prefix, count, start = params[0], params[1], params[2] if len(params) > 2 else None
            keys = sorted(k for k in self.storage if k.startswith(prefix) and (start is None or k > start))
            return keys[:count]
        if method == "state_queryStorageAt":
            return [{"block": HEAD, "changes": [[k, self.storage.get(k)] for k in params[0]]}]
        raise NotImplementedError(f"FakeNode: {method}")


def map_key(pallet: str, item: str, *keys: tuple[str, bytes]) -> str:
    """A storage map key by hand: twox128(pallet) ++ twox128(item) ++ hasher(key) for each key."""
    hashers = {"identity": lambda b: b, "blake2_128_concat": blake2_128_concat, "twox64_concat": two_x64_concat}
    return "0x" + (xxh128(pallet.encode()) + xxh128(item.encode()) + b"".join(hashers[h](k) for h, k in keys)).hex()
