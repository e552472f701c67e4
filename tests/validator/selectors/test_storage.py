import pytest

from tests.validator.factories import MinerFactory
from validator.models import Miner, MinerManifest
from validator.selectors.storage import manifest_storage_free, storage_miner_candidates

pytestmark = pytest.mark.django_db


def miner(*, coldkey: str, free: int | None, **kw: object) -> Miner:
    m = MinerFactory.create(coldkey=coldkey, **kw)
    host: dict[str, object] = {"name": "h", "executors": {}}
    if free is not None:
        host["storage"] = {"capacity_bytes": free + 10, "used_bytes": 10}
    MinerManifest.objects.create(miner=m, payload={"hosts": [host]}, digest="d")
    return m


def test_one_per_coldkey_most_free_first() -> None:
    small_a = miner(coldkey="A", free=100)
    big_a = miner(coldkey="A", free=1000)
    b = miner(coldkey="B", free=500)
    miner(coldkey="C", free=None)  # declares no storage
    miner(coldkey="D", free=900, is_active=False)
    miner(coldkey="E", free=900, address="")
    assert storage_miner_candidates(exclude_coldkeys=set()) == [big_a, b]
    assert storage_miner_candidates(exclude_coldkeys={"A"}) == [b]
    assert storage_miner_candidates(exclude_coldkeys=set(), exclude_miners={big_a.pk}) == [b, small_a]


def test_only_the_latest_manifest_counts() -> None:
    m = miner(coldkey="A", free=100)
    MinerManifest.objects.create(miner=m, payload={"hosts": [{"name": "h", "executors": {}}]}, digest="e")
    assert storage_miner_candidates(exclude_coldkeys=set()) == []


@pytest.mark.parametrize(
    "payload",
    [None, [], {"hosts": "x"}, {"hosts": [1]}, {"hosts": [{"storage": {"capacity_bytes": "9"}}]}],
)
def test_hostile_manifests_declare_nothing(payload: object) -> None:
    assert manifest_storage_free(payload) is None
