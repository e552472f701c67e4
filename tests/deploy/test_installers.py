"""deploy/install_validator.sh and install_miner.sh: every step printed under --dry-run (here and
on an SSH destination, from a file and piped as through curl), every input refused with the step
that failed, shellcheck-clean and generated from deploy/install/common.sh, and a real install
(without starting the services) that keeps its .env's secrets on a re-run."""

import os
import re
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from protocol.keys import hotkey_create, hotkey_write

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = {role: ROOT / "deploy" / f"install_{role}.sh" for role in ("validator", "miner")}
DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
LOCAL_STEPS = [
    "check the system (Debian/Ubuntu, x86_64/arm64)",
    "check the hotkey file {key}",
    "check port {port}",
    "install Docker and docker-compose when missing",
    "fetch the code into {prefix}/src",
    "write {prefix}/.env",
    "install the hotkey in {prefix}/keys (0600)",
    "start the services",
    "check readiness",
]

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def hotkey_file(tmp_path: Path) -> Path:
    hotkey, seed = hotkey_create()
    path = tmp_path / "hotkey.json"
    hotkey_write(path=path, hotkey=hotkey, seed_hex=seed)
    return path


@pytest.fixture
def installer(tmp_path: Path) -> Run:
    release = tmp_path / "os-release"
    release.write_text(DEBIAN)

    def run(role: str, *args: str, stdin: bool = False, **env: str) -> subprocess.CompletedProcess[str]:
        full = {
            **os.environ,
            "MESHWORK_OS_RELEASE": str(release),
            "MESHWORK_PREFIX": str(tmp_path / "prefix"),
            "MESHWORK_ARCH": "x86_64",
            **env,
        }
        if stdin:  # as `curl -fsSL …/install_miner.sh | bash -s - ARGS`: no file to read
            argv, text = ["bash", "-s", "-", *args], SCRIPTS[role].read_text()
        else:
            argv, text = ["bash", str(SCRIPTS[role]), *args], ""
        return subprocess.run(argv, env=full, input=text, capture_output=True, text=True, timeout=120)

    return run


def steps(out: str) -> list[str]:
    return re.findall(r"^\[\d+\] (.*)$", out, flags=re.M)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("role", ["validator", "miner"])
@pytest.mark.parametrize("piped", [False, True])
def test_a_dry_run_prints_every_step_and_changes_nothing(
    installer: Run, hotkey_file: Path, tmp_path: Path, role: str, piped: bool
) -> None:
    port = free_port()
    done = installer(role, "--dry-run", "--port", str(port), str(hotkey_file), stdin=piped)
    assert done.returncode == 0, done.stderr
    prefix = tmp_path / "prefix"
    assert steps(done.stdout) == [s.format(key=hotkey_file, port=port, prefix=prefix) for s in LOCAL_STEPS]
    assert f"would run: git clone -q https://github.com/meshwork-subnet/meshwork.git {prefix}/src" in done.stdout
    owner = "-o 65534 -g 65534 " if os.geteuid() == 0 else ""  # the app image's user
    assert f"would run: install -m 600 {owner}{hotkey_file} {prefix}/keys/hotkey.json" in done.stdout
    assert f"-p meshwork-{role} -f {prefix}/src/deploy/compose/node.yml up -d" in done.stdout
    assert f"Meshwork {role} installed in {prefix}" in done.stdout
    assert not prefix.exists()


def test_a_dry_run_with_registration_adds_those_steps(installer: Run, hotkey_file: Path) -> None:
    args = ["--dry-run", "--port", str(free_port()), "--register", "--coldkey", "5Cold", "--serve", "1.2.3.4:8100"]
    done = installer("miner", *args, str(hotkey_file))
    assert done.returncode == 0, done.stderr
    assert "register the hotkey as a miner" in steps(done.stdout)
    assert "serve 1.2.3.4:8100 on the chain" in steps(done.stdout)
    assert "python manage.py chain register --coldkey 5Cold --role miner" in done.stdout


@pytest.mark.parametrize("role", ["validator", "miner"])
def test_a_dry_run_on_a_destination_copies_the_key_and_runs_there(installer: Run, hotkey_file: Path, role: str) -> None:
    done = installer(role, "--dry-run", "ops@node-1.example", str(hotkey_file))
    assert done.returncode == 0, done.stderr
    remote_key = f"/tmp/meshwork-hotkey-{role}.json"
    assert steps(done.stdout) == [
        f"check the hotkey file {hotkey_file}",
        "check ops@node-1.example answers over SSH",
        f"copy the hotkey to ops@node-1.example:{remote_key}",
        f"run the {role} installer on ops@node-1.example",
    ]
    assert "would run: ssh -o BatchMode=yes -o ConnectTimeout=10 -p 22 ops@node-1.example true" in done.stdout
    assert f"would run: scp -q -o BatchMode=yes -P 22 {hotkey_file} ops@node-1.example:{remote_key}" in done.stdout
    assert f"--remote --port {8100 if role == 'miner' else 8200}" in done.stdout


def _failure(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr  # one line, never a trace
    return lines[0]


def test_a_missing_hotkey_file_stops_at_its_step(installer: Run, tmp_path: Path) -> None:
    done = installer("miner", "--dry-run", str(tmp_path / "nope.json"))
    assert _failure(done) == f"install_miner.sh: step 2 (check the hotkey file {tmp_path / 'nope.json'}) failed"
    assert "no such file" in done.stdout
    assert "[3]" not in done.stdout  # stopped at the first failed step


@pytest.mark.parametrize(
    "raw",
    [
        "0x" + "ab" * 32,  # a seed
        "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",  # an SS58 address
        "bottom drive obey lake curtain smoke basket hold race lonely fit walk",  # a mnemonic
    ],
)
def test_a_key_given_instead_of_a_path_is_refused(installer: Run, raw: str) -> None:
    done = installer("validator", "--dry-run", raw)
    assert "HOTKEY_PATH looks like a key, not a path" in _failure(done)
    assert raw not in done.stdout + done.stderr  # a secret is not echoed into logs
    assert steps(done.stdout) == []


def test_a_file_that_is_not_a_keygen_hotkey_is_refused(installer: Run, tmp_path: Path) -> None:
    wrong = tmp_path / "id_rsa"
    wrong.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    done = installer("miner", "--dry-run", str(wrong))
    assert "check the hotkey file" in _failure(done)
    assert "is not a keygen hotkey file" in done.stdout


@pytest.mark.parametrize("destination", ["ops@@host", "-oProxyCommand=sh", "host name", "ops@host:port"])
def test_a_bad_destination_is_refused_before_any_step(installer: Run, hotkey_file: Path, destination: str) -> None:
    done = installer("miner", "--dry-run", destination, str(hotkey_file))
    line = _failure(done)
    assert "SSH_DESTINATION must be [user@]host" in line or "unknown option" in line
    assert steps(done.stdout) == []


def test_an_unreachable_destination_stops_at_its_step(installer: Run, hotkey_file: Path) -> None:
    done = installer("miner", "ssh://ops@127.0.0.1:1", str(hotkey_file))
    assert _failure(done) == "install_miner.sh: step 2 (check ssh://ops@127.0.0.1:1 answers over SSH) failed"
    assert "cannot log in to ssh://ops@127.0.0.1:1 over SSH" in done.stdout


@pytest.mark.parametrize(
    ("release", "arch", "says"),
    [
        ('ID=fedora\nVERSION_ID="40"\n', "x86_64", "unsupported system 'fedora'"),
        ('ID=linuxmint\nID_LIKE="ubuntu debian"\n', "s390x", "unsupported architecture 's390x'"),
    ],
)
def test_an_unsupported_system_stops_at_the_first_step(
    installer: Run, hotkey_file: Path, tmp_path: Path, release: str, arch: str, says: str
) -> None:
    path = tmp_path / "other-release"
    path.write_text(release)
    done = installer("validator", "--dry-run", str(hotkey_file), MESHWORK_OS_RELEASE=str(path), MESHWORK_ARCH=arch)
    assert _failure(done).startswith("install_validator.sh: step 1 (check the system")
    assert says in done.stdout


def test_a_derivative_of_debian_is_supported(installer: Run, hotkey_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "mint-release"
    path.write_text('ID=linuxmint\nID_LIKE="ubuntu debian"\n')
    done = installer("miner", "--dry-run", "--port", str(free_port()), str(hotkey_file), MESHWORK_OS_RELEASE=str(path))
    assert done.returncode == 0, done.stderr


def test_a_taken_port_stops_at_its_step(installer: Run, hotkey_file: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = installer("miner", "--dry-run", "--port", str(port), str(hotkey_file))
    assert _failure(done) == f"install_miner.sh: step 3 (check port {port}) failed"
    assert "already taken" in done.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--port", "70000"], "--port must be 1-65535, not '70000'"),
        (["--register"], "--register needs --coldkey SS58"),
        (["--serve", "nowhere"], "--serve must be HOST:PORT, not 'nowhere'"),
        (["--frobnicate"], "unknown option --frobnicate"),
    ],
)
def test_bad_options_are_one_line(installer: Run, hotkey_file: Path, args: list[str], says: str) -> None:
    assert says in _failure(installer("miner", "--dry-run", *args, str(hotkey_file)))


def test_no_hotkey_path_at_all_says_so(installer: Run) -> None:
    done = installer("miner", "--dry-run")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == "install_miner.sh: HOTKEY_PATH is missing"


@pytest.fixture
def code_repo(tmp_path: Path) -> Path:
    """A local git repository standing in for MESHWORK_REPO."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "README.md").write_text("meshwork\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git[:3], "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "code"], check=True)
    return repo


def _env_file(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def test_a_real_install_keeps_its_secrets_on_a_rerun(
    installer: Run, hotkey_file: Path, code_repo: Path, tmp_path: Path
) -> None:
    if shutil.which("docker") is None:
        pytest.fail("the installer tests need docker on this machine (make services)")
    port = str(free_port())
    args = ["--no-start", "--port", port, str(hotkey_file)]
    first = installer("miner", *args, MESHWORK_REPO=str(code_repo), FACILITATOR_HOTKEY="5Fac")
    assert first.returncode == 0, first.stdout + first.stderr
    prefix = tmp_path / "prefix"
    env_path, key_path = prefix / ".env", prefix / "keys" / "hotkey.json"
    env = _env_file(env_path)
    assert env["MESHWORK_ROLE"] == "miner"
    assert env["MESHWORK_PORT"] == port
    assert env["FACILITATOR_HOTKEY"] == "5Fac"
    assert "FACILITATOR_URL" not in env  # unset: the node's own default applies
    assert re.fullmatch(r"[0-9a-f]{48}", env["DJANGO_SECRET_KEY"])
    assert env["POSTGRES_PASSWORD"] != env["DJANGO_SECRET_KEY"]
    assert stat.S_IMODE(env_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert key_path.read_bytes() == hotkey_file.read_bytes()
    assert (prefix / "src" / "README.md").read_text() == "meshwork\n"

    # A re-run changes nothing it wrote, and adds back a setting that went missing.
    env_path.write_text("".join(f"{k}={v}\n" for k, v in env.items() if k != "POSTGRES_PASSWORD"))
    again = installer("miner", *args, MESHWORK_REPO=str(code_repo))
    assert again.returncode == 0, again.stdout + again.stderr
    rerun = _env_file(env_path)
    assert {k: v for k, v in rerun.items() if k != "POSTGRES_PASSWORD"} == {
        k: v for k, v in env.items() if k != "POSTGRES_PASSWORD"
    }
    assert re.fullmatch(r"[0-9a-f]{48}", rerun["POSTGRES_PASSWORD"])


def test_the_installers_are_shellcheck_clean_and_generated_from_the_library() -> None:
    if shutil.which("shellcheck") is None:
        pytest.fail("shellcheck is missing: `make tools` installs it")
    scripts = [*SCRIPTS.values(), ROOT / "deploy/install/common.sh", ROOT / "deploy/install/generate.sh"]
    done = subprocess.run(["shellcheck", *map(str, scripts)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
    generate = ROOT / "deploy/install/generate.sh"
    check = subprocess.run(["bash", str(generate), "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A real OpenSSH server on a loopback port, logging in root with a key made here; yields the
    destination and the client's environment (an ssh config with the key, via MESHWORK_SSH_OPTIONS)."""
    sshd_bin = shutil.which("sshd") or "/usr/sbin/sshd"
    if not Path(sshd_bin).exists() or os.geteuid() != 0:
        pytest.fail("the SSH install test needs openssh-server and root (`make tools` installs it)")
    base = tmp_path / "ssh"
    base.mkdir()
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(base / name)], check=True)
    (base / "authorized_keys").write_text((base / "client.pub").read_text())
    port = free_port()
    config = base / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {base / 'host'}\nPidFile {base / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {base / 'authorized_keys'}\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\nSubsystem sftp /usr/lib/openssh/sftp-server\n"
    )
    (base / "ssh_config").write_text(
        f"Host 127.0.0.1\n  IdentityFile {base / 'client'}\n  StrictHostKeyChecking no\n"
        "  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)  # its privilege-separation directory
    server = subprocess.Popen([sshd_bin, "-D", "-e", "-f", str(config)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    try:
        yield f"ssh://root@127.0.0.1:{port}", {"MESHWORK_SSH_OPTIONS": f"-F {base / 'ssh_config'}"}
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_real_install_over_ssh_runs_the_steps_there(
    installer: Run, hotkey_file: Path, code_repo: Path, tmp_path: Path, sshd: tuple[str, dict[str, str]]
) -> None:
    destination, client_env = sshd
    prefix = tmp_path / "remote-prefix"
    args = ["--no-start", "--port", str(free_port()), "--prefix", str(prefix), destination, str(hotkey_file)]
    done = installer("validator", *args, MESHWORK_REPO=str(code_repo), FACILITATOR_HOTKEY="5Fac", **client_env)
    assert done.returncode == 0, done.stdout + done.stderr
    # The destination ran the local steps itself (its own system check, its own .env).
    assert "[1] check the system (Debian/Ubuntu, x86_64/arm64)" in done.stdout
    assert f"Meshwork validator installed in {prefix}" in done.stdout
    env = _env_file(prefix / ".env")
    assert env["MESHWORK_ROLE"] == "validator"
    assert env["FACILITATOR_HOTKEY"] == "5Fac"  # taken along from this shell
    assert (prefix / "keys" / "hotkey.json").read_bytes() == hotkey_file.read_bytes()
    assert not Path("/tmp/meshwork-hotkey-validator.json").exists()  # the copy in transit is gone


APP_IMAGE = "meshwork/app:dev"


def test_a_real_install_starts_the_node_and_waits_for_it(installer: Run, hotkey_file: Path, tmp_path: Path) -> None:
    """Every step for real on this machine: the node's compose project from the app image comes
    up and answers; then it is taken down with its volume."""
    if not (ROOT / "deploy/images/build-app.sh").exists():  # the app image comes with the compose branch
        pytest.skip("no app image in this tree yet: deploy/images/build-app.sh builds meshwork/app:dev")
    if subprocess.run(["docker", "image", "inspect", APP_IMAGE], capture_output=True).returncode != 0:
        pytest.fail(f"{APP_IMAGE} is missing: `make images` builds it")
    project = f"meshwork-test-{os.environ.get('MESHWORK_TEST_ID', 'main')}-{os.getpid()}"
    port = str(free_ports_pair())
    prefix = tmp_path / "prefix"
    compose = ["docker-compose", "--env-file", str(prefix / ".env"), "-p", project]
    compose += ["-f", str(prefix / "src/deploy/compose/node.yml")]
    try:
        done = installer(
            "miner", "--port", port, str(hotkey_file), MESHWORK_REPO=str(ROOT), MESHWORK_PROJECT=project, CHAIN="local"
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"http://127.0.0.1:{port} is ready" in done.stdout
        running = subprocess.run(
            [*compose, "ps", "--services", "--filter", "status=running"], capture_output=True, text=True
        )
        assert set(running.stdout.split()) == {"postgres", "redis", "node", "worker", "dht"}
    finally:
        subprocess.run([*compose, "down", "-v", "--timeout", "5"], capture_output=True)


def free_ports_pair() -> int:
    """A free TCP port whose next one is free for UDP too (the node's DHT)."""
    for _ in range(100):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind(("0.0.0.0", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no free pair of ports")
