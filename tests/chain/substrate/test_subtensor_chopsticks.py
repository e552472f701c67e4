"""SubtensorChain against the real subtensor runtime (spec 218) run by Chopsticks."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from substrateinterface import Keypair

from chain.devnet.state import fund, new_blocks, shape_subnet
from chain.interface import ChainError, NotRegistered, RateLimited, Role
from chain.models import WeightCommit
from chain.selectors import metagraph_neuron, metagraph_neurons
from chain.services.metagraph import metagraph_sync
from chain.services.neurons import neuron_register
from chain.services.weight_commits import weight_commits_reveal, weights_set
from chain.substrate.subtensor import SubtensorChain
from chain.substrate.subtensor_reads import PALLET, read_commits
from chain.substrate.weights import normalize_u16
from protocol.identity import node_hotkey
from protocol.keys import hotkey_create, hotkey_write
from validator.models import ScoringCycle, WeightSubmission
from validator.services.weights import weights_submit_due

pytestmark = [pytest.mark.chopsticks, pytest.mark.django_db]
NETUID = 1
STAKE = 5 * 10**12  # rao
RATE_LIMIT = 5
PUBLIC = "203.0.113.7"  # TEST-NET-3: accepted as data; the runtime refuses loopback


@pytest.fixture(scope="session")
def subnet(subtensor_rpc, django_db_blocker):
    """Subnet 1 made quick for tests: tempo 10, weights every RATE_LIMIT blocks, stake 1:1."""
    subtensor_rpc.read(
        lambda si: shape_subnet(si, NETUID, stable=True, tempo=10, weights_rate_limit=RATE_LIMIT, commit_reveal=False)
    )
    return NETUID


@pytest.fixture
def coldkey(sr25519, subtensor_rpc, subnet):
    key = sr25519("//meshwork//coldkey")
    subtensor_rpc.read(lambda si: fund(si, [key.ss58_address], 10**15))
    return key


@pytest.fixture
def chain_for(subtensor_node, keyring_of, coldkey):
    made = []

    def make(*hotkeys, coldkey=coldkey):
        chain = SubtensorChain(
            endpoint=subtensor_node.endpoint, netuid=NETUID, keyring=keyring_of(*hotkeys, coldkey=coldkey)
        )
        made.append(chain)
        return chain

    yield make
    for chain in made:
        chain.close()


def blocks(rpc, count: int) -> int:
    return rpc.read(lambda si: new_blocks(si, count))


def test_register_serve_stake_then_read_the_metagraph(chain_for, sr25519, coldkey, subtensor_rpc):
    validator, miner = sr25519("//meshwork//validator-a"), sr25519("//meshwork//miner-a")
    chain = chain_for(validator, miner)
    chain.min_validator_stake = 10**9

    v = chain.register(hotkey=validator.ss58_address, coldkey=coldkey.ss58_address, role=Role.VALIDATOR)
    m = chain.register(hotkey=miner.ss58_address, coldkey=coldkey.ss58_address, role=Role.MINER)
    assert v.uid != m.uid
    assert {v.coldkey, m.coldkey} == {coldkey.ss58_address}
    # Registering again is a no-op that returns the same uid.
    assert chain.register(hotkey=miner.ss58_address, coldkey=coldkey.ss58_address, role=Role.MINER).uid == m.uid

    with pytest.raises(ChainError) as refused:
        chain.serve(hotkey=miner.ss58_address, address="127.0.0.1:8000")
    assert refused.value.name == "InvalidIpAddress"
    chain.serve(hotkey=miner.ss58_address, address=f"{PUBLIC}:8100")
    chain.add_stake(hotkey=validator.ss58_address, amount=STAKE)
    blocks(subtensor_rpc, 11)  # one epoch (tempo 10): permits follow stake

    chain.fetch_metagraph()  # the chain itself
    metagraph_sync(client=chain, force=True)
    by_hotkey = {n.hotkey: n for n in metagraph_neurons(chain="subtensor", netuid=NETUID) or []}  # from Postgres
    assert by_hotkey[miner.ss58_address].address == f"{PUBLIC}:8100"
    assert by_hotkey[miner.ss58_address].role == Role.MINER
    assert by_hotkey[validator.ss58_address].stake == STAKE
    assert by_hotkey[validator.ss58_address].validator_permit
    assert by_hotkey[validator.ss58_address].role == Role.VALIDATOR
    assert (
        metagraph_neuron(chain="subtensor", netuid=NETUID, hotkey=validator.ss58_address)
        == by_hotkey[validator.ss58_address]
    )


def test_set_weights_waits_for_the_rate_limit(chain_for, sr25519, coldkey, subtensor_rpc):
    validator, miner = sr25519("//meshwork//validator-w"), sr25519("//meshwork//miner-w")
    chain = chain_for(validator)
    for hk in (validator, miner):
        chain.register(hotkey=hk.ss58_address, coldkey=coldkey.ss58_address, role=Role.MINER)
    blocks(subtensor_rpc, RATE_LIMIT)  # registration counts as the last update
    chain.set_weights(hotkey=validator.ss58_address, weights={miner.ss58_address: 1.0})

    weights = {miner.ss58_address: 3.0, validator.ss58_address: 1.0}
    with pytest.raises(RateLimited) as too_fast:
        chain.set_weights(hotkey=validator.ss58_address, weights=weights)
    assert too_fast.value.name == "SettingWeightsTooFast"
    head = chain.current_block()
    assert head < too_fast.value.retry_at_block <= head + RATE_LIMIT

    blocks(subtensor_rpc, too_fast.value.retry_at_block - head)
    chain.set_weights(hotkey=validator.ss58_address, weights=weights)
    uids = {n.hotkey: n.uid for n in chain.fetch_metagraph().neurons}
    stored = subtensor_rpc.read(lambda si: si.query(PALLET, "Weights", [NETUID, uids[validator.ss58_address]]).value)
    assert sorted(stored) == sorted([(uids[miner.ss58_address], 65535), (uids[validator.ss58_address], 21845)])


def test_commit_then_reveal_across_a_restart(chain_for, sr25519, coldkey, subtensor_rpc, subtensor_node, keyring_of):
    validator, miner = sr25519("//meshwork//validator-cr"), sr25519("//meshwork//miner-cr")
    chain = chain_for(validator)
    for hk in (validator, miner):
        chain.register(hotkey=hk.ss58_address, coldkey=coldkey.ss58_address, role=Role.MINER)
    subtensor_rpc.read(lambda si: shape_subnet(si, NETUID, commit_reveal=True))
    try:
        blocks(subtensor_rpc, RATE_LIMIT)  # past the rate limit
        weights_set(client=chain, hotkey=validator.ss58_address, weights={miner.ss58_address: 1.0})
        row = WeightCommit.objects.get(hotkey=validator.ss58_address)
        assert row.status == WeightCommit.Status.COMMITTED
        on_chain = subtensor_rpc.read(lambda si: read_commits(si, NETUID, validator.ss58_address))
        assert [(row.commit_hash, row.commit_block, row.reveal_from_block, row.reveal_until_block)] == on_chain
        assert weight_commits_reveal(client=chain) == 0  # the window is not open yet

        # A "restarted" node: a new client, whose only memory of the commit is the row in Postgres.
        restarted = chain_for(validator)
        blocks(subtensor_rpc, row.reveal_from_block - restarted.current_block())
        assert weight_commits_reveal(client=restarted) == 1
        row.refresh_from_db()
        assert row.status == WeightCommit.Status.REVEALED
        assert row.revealed_block is not None
        assert row.reveal_from_block is not None
        assert row.revealed_block >= row.reveal_from_block
        uids = {n.hotkey: n.uid for n in restarted.fetch_metagraph().neurons}
        stored = subtensor_rpc.read(
            lambda si: si.query(PALLET, "Weights", [NETUID, uids[validator.ss58_address]]).value
        )
        assert stored == [(uids[miner.ss58_address], 65535)]
    finally:
        subtensor_rpc.read(lambda si: shape_subnet(si, NETUID, commit_reveal=False))


def test_a_cycles_weights_reach_the_chain_through_the_weights_service(
    chain_for, sr25519, coldkey, subtensor_rpc, node_key, settings
):
    """The validator's own path: a WeightSubmission → weights_submit_due → set_weights on the real
    runtime; a second cycle inside the rate limit waits (pending), then lands."""
    settings.VALIDATOR_WEIGHTS_ENABLED = True
    miner = sr25519("//meshwork//miner-ws")
    chain = chain_for(node_key.keypair)
    for hk in (node_key.ss58, miner.ss58_address):
        chain.register(hotkey=hk, coldkey=coldkey.ss58_address, role=Role.MINER)
    blocks(subtensor_rpc, RATE_LIMIT)  # registration counts as the last update
    uids = {n.hotkey: n.uid for n in chain.fetch_metagraph().neurons}

    def submission(number: int, values: dict[str, float]) -> WeightSubmission:
        now = timezone.now()
        cycle = ScoringCycle.objects.create(number=number, window_start=now, window_end=now)
        return WeightSubmission.objects.create(cycle=cycle, values=values)

    def on_chain() -> list[tuple[int, int]]:
        stored = subtensor_rpc.read(lambda si: si.query(PALLET, "Weights", [NETUID, uids[node_key.ss58]]).value)
        return sorted((int(uid), int(value)) for uid, value in stored)

    first = submission(1, {miner.ss58_address: 1.0, node_key.ss58: 0.5, "5NotOnTheSubnet": 9.0})
    assert weights_submit_due(client=chain).submitted == {1: WeightSubmission.Status.SET}
    first.refresh_from_db()
    assert first.status == WeightSubmission.Status.SET
    assert first.block is not None
    assert first.block <= chain.current_block()
    expected = normalize_u16({uids[miner.ss58_address]: 1.0, uids[node_key.ss58]: 0.5})
    assert on_chain() == sorted(zip(*expected, strict=True))

    second = submission(2, {miner.ss58_address: 1.0})
    weights_submit_due(client=chain)
    second.refresh_from_db()
    assert (second.status, second.attempts) == (WeightSubmission.Status.PENDING, 1)
    assert second.reason.startswith("SettingWeightsTooFast: ")
    blocks(subtensor_rpc, RATE_LIMIT)
    weights_submit_due(client=chain)
    second.refresh_from_db()
    assert (second.status, second.attempts) == (WeightSubmission.Status.SET, 2)
    assert on_chain() == [(uids[miner.ss58_address], 65535)]


def test_module_errors_are_typed(chain_for, sr25519, subtensor_node, keyring_of):
    stranger, broke = sr25519("//meshwork//stranger"), sr25519("//meshwork//broke-coldkey")
    chain = chain_for(stranger)
    with pytest.raises(NotRegistered) as not_registered:
        chain.serve(hotkey=stranger.ss58_address, address=f"{PUBLIC}:9000")
    assert not_registered.value.name.startswith("HotKeyNotRegistered")
    with pytest.raises(NotRegistered):
        chain.set_weights(hotkey=stranger.ss58_address, weights={stranger.ss58_address: 1.0})
    poor = chain_for(coldkey=broke)
    with pytest.raises(ChainError) as no_funds:
        poor.register(hotkey=stranger.ss58_address, coldkey=broke.ss58_address, role=Role.MINER)
    assert no_funds.value.name in {"InvalidTransaction", "NotEnoughBalanceToStake"}
    with pytest.raises(ChainError) as no_key:
        chain.register(hotkey=stranger.ss58_address, coldkey=broke.ss58_address, role=Role.MINER)
    assert no_key.value.name == "NoSigningKey"


def test_chain_command_lists_the_subtensor_metagraph(
    settings, subtensor_node, chain_for, sr25519, coldkey, capsys, fresh_chain_client
):
    hotkey = sr25519("//meshwork//listed")
    # Registering through the service stores the metagraph, which `chain list` prints.
    neuron_register(client=chain_for(), hotkey=hotkey.ss58_address, coldkey=coldkey.ss58_address, role=Role.MINER)
    settings.CHAIN, settings.CHAIN_ENDPOINT, settings.CHAIN_NETUID = "subtensor", subtensor_node.endpoint, NETUID
    call_command("chain", "list")
    out = capsys.readouterr().out
    assert hotkey.ss58_address in out
    assert out.startswith("block ")


def test_chain_command_metagraph_and_weights_on_subtensor(
    settings, subtensor_node, subtensor_rpc, tmp_path, capsys, fresh_chain_client
):
    hotkey, seed = hotkey_create()
    validator, miner = hotkey.keypair, Keypair.create_from_uri("//meshwork//cmd-miner")
    key_file = tmp_path / "validator.json"
    hotkey_write(path=key_file, hotkey=hotkey, seed_hex=seed)
    call_command(
        "chain_devnet",
        "--endpoint", subtensor_node.endpoint,
        "--coldkey", str(tmp_path / "coldkey.json"),
        "--validator", str(key_file),
        "--miner", miner.ss58_address,
        "--stake", str(STAKE),
        "--tempo", "10",
        "--weights-rate-limit", str(RATE_LIMIT),
    )  # fmt: skip
    summary = json.loads(capsys.readouterr().out)
    assert [(n["hotkey"], n["role"]) for n in summary["nodes"]] == [
        (validator.ss58_address, "validator"),
        (miner.ss58_address, "miner"),
    ]
    assert summary["nodes"][0]["stake"] == STAKE

    settings.CHAIN, settings.CHAIN_ENDPOINT, settings.CHAIN_NETUID = "subtensor", subtensor_node.endpoint, NETUID
    settings.HOTKEY_PATH = key_file
    node_hotkey.cache_clear()
    call_command("chain", "metagraph")
    out = capsys.readouterr().out
    assert out.startswith(f"subtensor subnet {NETUID} at block ")
    assert f"validator {validator.ss58_address}" in out
    call_command("chain", "weights", "--set", f"{miner.ss58_address}=1")
    assert capsys.readouterr().out == f"weights sent for {validator.ss58_address}\n"
    with pytest.raises(CommandError, match=r"SettingWeightsTooFast: .*allowed again at block \d+"):
        call_command("chain", "weights", "--set", f"{miner.ss58_address}=1")
