import pytest

from tests.conftest import async_db_close
from tests.dht.swarm import Swarm, config_with


@pytest.fixture
async def make_swarm():
    swarms: list[Swarm] = []

    async def _make(count: int, **config) -> Swarm:
        swarm = Swarm(config=config_with(**config)) if config else Swarm()
        swarms.append(swarm)
        await swarm.grow(count)
        return swarm

    yield _make
    for swarm in swarms:
        await swarm.close()


@pytest.fixture(autouse=True)
async def _close_db_thread_connections(request):
    """sync_to_async runs ORM calls on one worker thread; close its connection after each test so
    the test database can be flushed and dropped."""
    yield
    if request.node.get_closest_marker("django_db"):
        await async_db_close()
