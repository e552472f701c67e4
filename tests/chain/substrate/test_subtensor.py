"""Encoding, signing, storage keys and metagraph decoding against the spec-343 metadata, through an
in-process fake RPC (tests/chain/fake_rpc.py). No chain runs here: this is the current runtime's
type layout, which Chopsticks cannot run offline."""

import pytest
from scalecodec.base import ScaleBytes
from substrateinterface import Keypair

from chain.interface import ChainError, MalformedResponse, Metagraph, Neuron, RateLimited, Role
from chain.models import WeightCommit
from chain.services import weight_commits
from chain.services.weight_commits import weight_commits_reveal, weights_set
from chain.substrate.connection import SubstrateConnection
from chain.substrate.extrinsics import sign
from chain.substrate.keyring import KeyRing
from chain.substrate.subtensor import SubtensorChain
from chain.substrate.subtensor_reads import PALLET, read_metagraph
from chain.substrate.weights import commit_hash
from tests.chain.fake_rpc import FakeNode, map_key

NETUID = 3
VALIDATOR = Keypair.create_from_uri("//spec343/validator")
MINER = Keypair.create_from_uri("//spec343/miner")
COLDKEY = Keypair.create_from_uri("//spec343/coldkey")


@pytest.fixture(scope="session")
def node(metadata_343_hex):
    return FakeNode(metadata_343_hex)


@pytest.fixture(scope="session")
def connection(node):
    connection = SubstrateConnection(url="", websocket=node)
    connection.interface()  # decodes the metadata once per session
    return connection


@pytest.fixture
def si(node, connection):
    node.storage.clear()
    node.submitted.clear()
    node.broken.clear()
    node.events_hex = "0x00"
    return connection.interface()


def put(si, pallet, item, params, value):
    """Store `value` SCALE-encoded as the runtime's type for pallet.item(params)."""
    node = si.websocket
    function = si.get_metadata_storage_function(pallet, item)
    key = si.create_storage_key(pallet, item, params).to_hex()
    node.storage[key] = str(si.encode_scale(function.get_value_type_string(), value))


def events(si, *records):
    value_type = si.get_metadata_storage_function("System", "Events").get_value_type_string()
    body = [{"phase": {"ApplyExtrinsic": 0}, "event": event, "topics": []} for event in records]
    return str(si.runtime_config.create_scale_object(value_type).encode(body))


def decode_call(si, extrinsic_hex):
    extrinsic = si.runtime_config.create_scale_object("Extrinsic", data=ScaleBytes(extrinsic_hex), metadata=si.metadata)
    extrinsic.decode()
    return extrinsic.value


def account_info(nonce):
    data = {"free": 5, "reserved": 0, "frozen": 0, "flags": 0}
    return {"nonce": nonce, "consumers": 0, "providers": 1, "sufficients": 0, "data": data}


DISPATCH_INFO = {"weight": {"ref_time": 1, "proof_size": 0}, "class": "Normal", "pays_fee": "No"}
SUCCESS = {
    "System": {
        "ExtrinsicSuccess": {
            "dispatch_info": {"weight": {"ref_time": 1, "proof_size": 0}, "class": "Normal", "pays_fee": "No"}
        }
    }
}


@pytest.mark.parametrize(
    ("function", "params"),
    [
        ("burned_register", {"netuid": NETUID, "hotkey": MINER.ss58_address}),
        (
            "serve_axon",
            {
                "netuid": NETUID,
                "version": 1,
                "ip": 3405803783,
                "port": 8000,
                "ip_type": 4,
                "protocol": 4,
                "placeholder1": 0,
                "placeholder2": 0,
            },
        ),
        ("add_stake", {"hotkey": MINER.ss58_address, "netuid": NETUID, "amount_staked": 10**12}),
        ("set_weights", {"netuid": NETUID, "dests": [0, 5], "weights": [65535, 1], "version_key": 7}),
        ("commit_weights", {"netuid": NETUID, "commit_hash": "0x" + "ab" * 32}),
        ("reveal_weights", {"netuid": NETUID, "uids": [1], "values": [65535], "salt": [1, 2], "version_key": 7}),
        (
            "commit_timelocked_weights",
            {"netuid": NETUID, "commit": "0x0102", "reveal_round": 99, "commit_reveal_version": 4},
        ),
    ],
)
def test_calls_encode_and_decode_against_spec_343(si, function, params):
    call = si.compose_call(PALLET, function, params)
    decoded = si.runtime_config.create_scale_object("Call", data=ScaleBytes(call.data.data), metadata=si.metadata)
    decoded.decode()
    assert decoded.value["call_module"] == PALLET
    assert decoded.value["call_function"] == function
    args = {a["name"]: a["value"] for a in decoded.value["call_args"]}
    if function == "commit_timelocked_weights":
        params = {**params, "commit": "\x01\x02"}  # scalecodec decodes a byte vector as text
    assert args == params


def test_signed_extrinsics_use_the_nonce_from_system_account_and_verify(si):
    put(si, "System", "Account", [VALIDATOR.ss58_address], account_info(41))
    params = {"netuid": NETUID, "dests": [1], "weights": [65535], "version_key": 0}
    extrinsic = sign(si, signer=VALIDATOR, pallet=PALLET, function="set_weights", params=params)
    value = decode_call(si, str(extrinsic.data))
    assert value["nonce"] == 41
    assert value["address"] == VALIDATOR.ss58_address
    payload = si.generate_signature_payload(
        call=si.compose_call(PALLET, "set_weights", params), era=extrinsic.value["era"], nonce=41
    )
    signature = bytes.fromhex(value["signature"]["Sr25519"][2:])
    assert VALIDATOR.verify(payload, signature)
    assert not MINER.verify(payload, signature)


def test_storage_keys_follow_the_metadata_hashers(si):
    u16 = NETUID.to_bytes(2, "little")
    hotkey = bytes(MINER.public_key)
    cases = [
        ("Keys", [NETUID, 5], [("identity", u16), ("identity", (5).to_bytes(2, "little"))]),
        ("Uids", [NETUID, MINER.ss58_address], [("identity", u16), ("blake2_128_concat", hotkey)]),
        ("Axons", [NETUID, MINER.ss58_address], [("identity", u16), ("blake2_128_concat", hotkey)]),
        ("TotalHotkeyAlpha", [MINER.ss58_address, NETUID], [("blake2_128_concat", hotkey), ("identity", u16)]),
        ("Owner", [MINER.ss58_address], [("blake2_128_concat", hotkey)]),
        ("WeightCommits", [NETUID, MINER.ss58_address], [("twox64_concat", u16), ("twox64_concat", hotkey)]),
    ]
    for item, params, parts in cases:
        assert si.create_storage_key(PALLET, item, params).to_hex() == map_key(PALLET, item, *parts), item


def subnet_storage(si, *, commit_reveal=False, last_update=(0, 0)):
    put(si, PALLET, "NetworksAdded", [NETUID], True)
    put(si, PALLET, "Tempo", [NETUID], 360)
    put(si, PALLET, "CommitRevealWeightsEnabled", [NETUID], commit_reveal)
    put(si, PALLET, "WeightsSetRateLimit", [NETUID], 100)
    put(si, PALLET, "WeightsVersionKey", [NETUID], 7)
    put(si, PALLET, "Keys", [NETUID, 0], VALIDATOR.ss58_address)
    put(si, PALLET, "Keys", [NETUID, 1], MINER.ss58_address)
    put(si, PALLET, "Uids", [NETUID, VALIDATOR.ss58_address], 0)
    put(si, PALLET, "Uids", [NETUID, MINER.ss58_address], 1)
    put(si, PALLET, "Owner", [VALIDATOR.ss58_address], COLDKEY.ss58_address)
    put(si, PALLET, "Owner", [MINER.ss58_address], COLDKEY.ss58_address)
    put(si, PALLET, "TotalHotkeyAlpha", [VALIDATOR.ss58_address, NETUID], 7 * 10**12)
    put(si, PALLET, "ValidatorPermit", [NETUID], [True, True])
    put(si, PALLET, "LastUpdate", [NETUID], list(last_update))
    axon = {
        "block": 900,
        "version": 1,
        "ip": 3405803783,
        "port": 8100,
        "ip_type": 4,
        "protocol": 4,
        "placeholder1": 0,
        "placeholder2": 0,
    }
    put(si, PALLET, "Axons", [NETUID, MINER.ss58_address], axon)
    put(si, "System", "Account", [VALIDATOR.ss58_address], account_info(3))


def test_the_metagraph_decodes_from_spec_343_storage(si):
    subnet_storage(si, last_update=(950, 0))
    metagraph = read_metagraph(si, netuid=NETUID, min_validator_stake=10**9)
    assert metagraph == Metagraph(
        netuid=NETUID,
        block=1000,
        tempo=360,
        commit_reveal=False,
        weights_rate_limit=100,
        weights_version=7,
        neurons=[
            Neuron(uid=0, hotkey=VALIDATOR.ss58_address, coldkey=COLDKEY.ss58_address, stake=7 * 10**12,
                   role=Role.VALIDATOR, address=None, validator_permit=True, last_update=950),
            Neuron(uid=1, hotkey=MINER.ss58_address, coldkey=COLDKEY.ss58_address, stake=0, role=Role.MINER,
                   address="203.0.113.7:8100", validator_permit=True, last_update=0),
        ],
    )  # fmt: skip


def test_a_missing_subnet_and_malformed_storage_are_errors_not_crashes(si):
    with pytest.raises(ChainError) as missing:
        read_metagraph(si, netuid=NETUID, min_validator_stake=0)
    assert missing.value.name == "SubnetNotExists"
    subnet_storage(si)
    si.websocket.storage[si.create_storage_key(PALLET, "Tempo", [NETUID]).to_hex()] = "0x01"  # a u16 needs 2 bytes
    connection = SubstrateConnection(url="", websocket=si.websocket)
    connection._interface = si
    with pytest.raises(MalformedResponse):
        connection.read(lambda s: read_metagraph(s, netuid=NETUID, min_validator_stake=0))


@pytest.fixture
def subtensor(connection):
    return SubtensorChain(netuid=NETUID, connection=connection, keyring=KeyRing([VALIDATOR], coldkey=COLDKEY))


def test_set_weights_sends_u16_weights_with_the_version_key(si, subtensor, node):
    subnet_storage(si)
    node.events_hex = events(si, {"SubtensorModule": {"WeightsSet": (NETUID, 0)}}, SUCCESS)
    subtensor.set_weights(
        hotkey=VALIDATOR.ss58_address, weights={MINER.ss58_address: 2.0, VALIDATOR.ss58_address: 1.0, "5Gone": 9}
    )
    sent = decode_call(si, node.submitted[-1])
    assert sent["call"]["call_function"] == "set_weights"
    args = {a["name"]: a["value"] for a in sent["call"]["call_args"]}
    assert args == {"netuid": NETUID, "dests": [0, 1], "weights": [32768, 65535], "version_key": 7}
    assert sent["address"] == VALIDATOR.ss58_address


@pytest.mark.django_db
def test_with_commit_reveal_the_salt_is_stored_before_the_commit_is_sent(si, subtensor, node, monkeypatch):
    subnet_storage(si, commit_reveal=True)
    monkeypatch.setattr(weight_commits, "new_salt", lambda: [9, 8, 7, 6, 5, 4, 3, 2])
    digest = commit_hash(account=bytes(VALIDATOR.public_key), netuid=NETUID, uids=[1], values=[65535],
                         salt=[9, 8, 7, 6, 5, 4, 3, 2], version_key=7)  # fmt: skip
    put(si, PALLET, "WeightCommits", [NETUID, VALIDATOR.ss58_address], [(digest, 1000, 1360, 1720)])
    node.events_hex = events(si, SUCCESS)
    weights_set(client=subtensor, hotkey=VALIDATOR.ss58_address, weights={MINER.ss58_address: 1.0})
    sent = decode_call(si, node.submitted[-1])
    assert sent["call"]["call_function"] == "commit_weights"
    assert {a["name"]: a["value"] for a in sent["call"]["call_args"]} == {"netuid": NETUID, "commit_hash": digest}
    row = WeightCommit.objects.get()
    assert (row.status, row.salt, row.uids, row.values, row.version_key) == (
        "committed",
        [9, 8, 7, 6, 5, 4, 3, 2],
        [1],
        [65535],
        7,
    )
    assert (row.commit_block, row.reveal_from_block, row.reveal_until_block) == (1000, 1360, 1720)
    assert weight_commits_reveal(client=subtensor) == 0  # block 1000 < 1360: not yet
    assert len(node.submitted) == 1


def test_the_client_alone_refuses_to_set_weights_where_commit_reveal_is_required(si, subtensor, node):
    subnet_storage(si, commit_reveal=True)
    with pytest.raises(ChainError) as refused:
        subtensor.set_weights(hotkey=VALIDATOR.ss58_address, weights={MINER.ss58_address: 1.0})
    assert refused.value.name == "CommitRevealRequired"
    assert node.submitted == []


@pytest.mark.django_db
def test_the_backend_never_touches_the_database(si, subtensor, node, django_assert_num_queries):
    """A plain client: reads, plans and sends without one query (storing is chain.services' job)."""
    subnet_storage(si, commit_reveal=False)
    node.events_hex = events(si, SUCCESS)
    with django_assert_num_queries(0):
        assert [n.hotkey for n in subtensor.fetch_metagraph().neurons] == [VALIDATOR.ss58_address, MINER.ss58_address]
        assert subtensor.current_block() == 1000
        plan = subtensor.weights_plan(hotkey=VALIDATOR.ss58_address, weights={MINER.ss58_address: 1.0})
        assert (plan.uid, plan.uids, plan.values, plan.commit_reveal) == (0, [1], [65535], False)
        subtensor.weights_send(plan)
        assert subtensor.weights_commits(hotkey=VALIDATOR.ss58_address) == []
    assert len(node.submitted) == 1


def test_a_rate_limited_set_weights_names_the_block_it_may_retry_at(si, subtensor, node):
    subnet_storage(si, last_update=(960, 0))
    module = si.get_metadata_module(PALLET)
    index = module.value["index"]
    error = next(e.value["index"] for e in module.errors if e.value["name"] == "SettingWeightsTooFast")
    failed = {
        "dispatch_error": {"Module": {"index": index, "error": "0x" + error.to_bytes(4, "little").hex()}},
        "dispatch_info": DISPATCH_INFO,
    }
    node.events_hex = events(si, {"System": {"ExtrinsicFailed": failed}})
    with pytest.raises(RateLimited) as too_fast:
        subtensor.set_weights(hotkey=VALIDATOR.ss58_address, weights={MINER.ss58_address: 1.0})
    assert (too_fast.value.name, too_fast.value.retry_at_block) == ("SettingWeightsTooFast", 1060)


def test_signing_never_logs_a_secret(si, subtensor, node, caplog):
    seed = "0x" + "5a" * 32
    key = Keypair.create_from_seed(seed)
    subnet_storage(si)
    caplog.set_level("DEBUG")
    sign(
        si,
        signer=key,
        pallet=PALLET,
        function="add_stake",
        params={"hotkey": MINER.ss58_address, "netuid": NETUID, "amount_staked": 1},
    )
    assert seed[2:] not in caplog.text
    assert key.private_key.hex() not in caplog.text
