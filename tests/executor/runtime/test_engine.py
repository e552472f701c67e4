import pytest

from executor.runtime.engine import engine_shares_filesystem


@pytest.mark.parametrize(
    ("docker_url", "docker_host", "shares"),
    [
        ("local", "", True),
        ("local", "unix:///run/user/1000/docker.sock", True),
        ("local", "tcp://gpu-1:2375", False),
        ("unix:///var/run/docker.sock", "tcp://elsewhere:2375", True),
        ("tcp://gpu-1:2375", "", False),
        ("ssh://miner@gpu-1", "", False),
    ],
)
def test_only_unix_socket_engines_share_this_hosts_filesystem(
    monkeypatch: pytest.MonkeyPatch, docker_url: str, docker_host: str, shares: bool
) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    assert engine_shares_filesystem(docker_url) is shares
