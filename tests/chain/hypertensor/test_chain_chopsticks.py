"""HypertensorChain against the real Hypertensor runtime (hoskinson testnet, spec 1) run by Chopsticks."""

import hashlib

import pytest
from substrateinterface import Keypair, KeypairType

from chain.devnet.state import fund, hypertensor_subnet, set_storage
from chain.hypertensor.chain import HypertensorChain
from chain.hypertensor.identity import derived_peer_ids
from chain.hypertensor.reads import read_subnets
from chain.interface import ChainError, Neuron, NotRegistered, Role
from chain.selectors import metagraph_neuron, metagraph_neurons
from chain.services.metagraph import metagraph_sync
from chain.services.neurons import neuron_serve, neuron_stake_add
from chain.substrate.connection import SubstrateConnection
from chain.substrate.keyring import KeyRing

pytestmark = [pytest.mark.chopsticks, pytest.mark.django_db]
SUBNET = 1
MIN_STAKE = 10**20  # the runtime's default SubnetMinStakeBalance (18 decimals)


def as_hex(text: str) -> str:
    return "0x" + text.encode().hex()  # Chopsticks takes byte vectors as hex


def ecdsa(tag: str) -> Keypair:
    return Keypair.create_from_private_key(
        "0x" + hashlib.sha256(tag.encode()).hexdigest(), crypto_type=KeypairType.ECDSA
    )


@pytest.fixture(scope="session")
def hypertensor_rpc(hypertensor_node):
    connection = SubstrateConnection(url=hypertensor_node.endpoint, timeout_s=60)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def subnet(hypertensor_rpc):
    owner = ecdsa("meshwork/owner")
    hypertensor_rpc.read(
        lambda si: hypertensor_subnet(si, SUBNET, owner="0x" + owner.public_key.hex(), name="meshwork", slot=5)
    )
    return SUBNET


@pytest.fixture
def chain_for(hypertensor_node, hypertensor_rpc, subnet):
    made = []

    def make(tag: str) -> tuple[HypertensorChain, Keypair, Keypair]:
        hotkey, coldkey = ecdsa(f"{tag}/hot"), ecdsa(f"{tag}/cold")
        # Both pay fees on Hypertensor: the coldkey registers and stakes, the hotkey updates its node.
        hypertensor_rpc.read(lambda si: fund(si, ["0x" + k.public_key.hex() for k in (hotkey, coldkey)], 10**24))
        chain = HypertensorChain(
            endpoint=hypertensor_node.endpoint, subnet_id=subnet, keyring=KeyRing([hotkey], coldkey=coldkey)
        )
        made.append(chain)
        return chain, hotkey, coldkey

    yield make
    for chain in made:
        chain.close()


def test_register_serve_stake_and_read_the_nodes_back(chain_for, hypertensor_rpc, sr25519):
    chain, _, coldkey = chain_for("node-a")
    identity = sr25519("//meshwork//hypertensor-a").ss58_address
    assert SUBNET in [s.id for s in hypertensor_rpc.read(read_subnets)]

    queued = chain.register(hotkey=identity, coldkey="0x" + coldkey.public_key.hex(), role=Role.MINER)
    assert (queued.hotkey, queued.stake, queued.classification, queued.role) == (
        identity,
        MIN_STAKE,
        "Registered",
        Role.MINER,
    )
    assert queued.coldkey == "0x" + coldkey.public_key.hex()
    assert queued.peer_id == derived_peer_ids(identity)["peer"]

    neuron_serve(client=chain, hotkey=identity, address="203.0.113.9:31330")
    neuron_stake_add(client=chain, hotkey=identity, amount=5 * 10**18)
    node = metagraph_neuron(chain="hypertensor", netuid=SUBNET, hotkey=identity)  # re-synced by the services
    assert node is not None
    assert (node.address, node.stake) == ("203.0.113.9:31330", MIN_STAKE + 5 * 10**18)

    # Activation from the queue happens at the subnet's epoch slot; it did not within 100 blocks
    # of this storage-made subnet (see docs/chain.md), so an active validator is written directly,
    # in the runtime's own SubnetNodesData layout, and read back through the same code.
    validator = sr25519("//meshwork//hypertensor-validator").ss58_address
    account = "0x" + ecdsa("validator/hot").public_key.hex()
    active = {
        "id": 77,
        "hotkey": account,
        "peer_id": as_hex(derived_peer_ids(validator)["peer"]),
        "bootnode_peer_id": as_hex(derived_peer_ids(validator)["bootnode"]),
        "client_peer_id": as_hex(derived_peer_ids(validator)["client"]),
        "bootnode": as_hex("/ip4/198.51.100.4/tcp/4001"),
        "classification": {"node_class": "Validator", "start_epoch": 3},
        "delegate_reward_rate": 0,
        "last_delegate_reward_rate_update": 0,
        "unique": as_hex(validator),
        "non_unique": None,
    }
    hypertensor_rpc.read(
        lambda si: set_storage(
            si,
            {
                "Network": {
                    "SubnetNodesData": [[[SUBNET, 77], active]],
                    "AccountSubnetStake": [[[account, SUBNET], str(3 * MIN_STAKE)]],
                    "HotkeyOwner": [[[account], "0x" + coldkey.public_key.hex()]],
                }
            },
        )
    )
    metagraph_sync(client=chain, force=True)
    assert metagraph_neuron(chain="hypertensor", netuid=SUBNET, hotkey=validator) == Neuron(
        uid=77,
        hotkey=validator,
        coldkey="0x" + coldkey.public_key.hex(),
        stake=3 * MIN_STAKE,
        role=Role.VALIDATOR,
        address="198.51.100.4:4001",
        peer_id=derived_peer_ids(validator)["peer"],
        last_update=3,
        classification="Validator",
    )
    stored = metagraph_neurons(chain="hypertensor", netuid=SUBNET) or []
    assert [n.hotkey for n in stored] == ([identity, validator] if queued.uid < 77 else [validator, identity])


def test_hypertensor_errors_are_typed(chain_for, sr25519):
    chain, _, coldkey = chain_for("node-b")
    identity = sr25519("//meshwork//hypertensor-b").ss58_address
    with pytest.raises(ChainError) as no_key:
        chain.register(hotkey=identity, coldkey="0x" + "11" * 20, role=Role.MINER)
    assert no_key.value.name == "NoSigningKey"
    with pytest.raises(NotRegistered):
        chain.serve(hotkey=identity, address="203.0.113.10:1")
    taken = sr25519("//meshwork//hypertensor-a").ss58_address  # registered by node-a above, or now:
    other, _, other_cold = chain_for("node-c")
    if other.fetch_metagraph().neuron(taken) is None:
        other.register(hotkey=taken, coldkey="0x" + other_cold.public_key.hex(), role=Role.MINER)
    with pytest.raises(ChainError) as duplicate:
        chain.register(hotkey=taken, coldkey="0x" + coldkey.public_key.hex(), role=Role.MINER)
    # Peer ids are derived from the Meshwork hotkey, so the runtime refuses the second claim on them.
    assert duplicate.value.name == "PeerIdExist"
    with pytest.raises(ChainError) as unsupported:
        chain.set_weights(hotkey=identity, weights={taken: 1.0})
    assert unsupported.value.name == "Unsupported"
