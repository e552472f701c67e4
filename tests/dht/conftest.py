import pytest

from dht.swarm import Swarm, config_with


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
