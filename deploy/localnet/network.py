"""A whole Meshwork network on one machine: local chain, facilitator, validators, miners (and
their Celery workers), each a real process with its own database, key and Redis prefix.

Used by `make localnet` (deploy/localnet/run.py) and by the end-to-end tests."""

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from deploy.localnet.databases import database_url, ensure_databases
from deploy.localnet.keys import key_load_or_create
from deploy.localnet.ports import free_ports
from deploy.localnet.processes import ROOT, Proc, celery_worker, manage, stop_all
from deploy.localnet.readiness import dht_online_miners, http_ok, validators_connected
from deploy.localnet.sizing import (
    CALIBRATION_VERSION,
    admin_user_ensure,
    class_size,
    local_chain_env,
    manage_checked,
    verification_env,
)
from deploy.localnet.storage import rental_env, storage_env
from deploy.localnet.subtensor import chopsticks_proc, wait_for_rpc
from deploy.localnet.supervisor import Backoff, Supervisor, SupervisorThread
from deploy.localnet.tls import localnet_tls_default, tls_assign, tls_env
from protocol.keys import Hotkey

ASGI_APP = "config.asgi:application"  # what a validator's daphne serves (its admin, the miners API)


@dataclass
class Node:
    name: str
    role: str
    hotkey: Hotkey
    coldkey: str
    port: int
    stake: int
    dht_port: int = 0
    tls_port: int = 0  # node-to-node traffic over TLS (deploy/localnet/tls.py); REST stays on `port`
    procs: list[Proc] = field(default_factory=list)

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/healthz/"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.tls_port or self.port}" if self.role in ("miner", "facilitator") else ""


@dataclass
class NetworkConfig:
    directory: Path
    validators: int = 1
    miners: int = 3
    executors: int = 2
    port_base: int | None = 8000  # None: pick free ports (tests)
    db_prefix: str = "meshwork_localnet"
    celery: bool = True
    celery_roles: frozenset[str] = frozenset({"facilitator", "validator", "miner"})  # whose worker runs
    min_validator_stake: int = 1000
    credits: str = "100000"
    chain: str = "local"  # or "subtensor": the real runtime under Chopsticks
    dht: bool = True  # a DHT bootnode plus a DHT process per validator and miner
    cycle_s: int = 300  # the validators' benchmark cycle (LOCALNET_CYCLE_S)
    calibrate_runs: int = 1  # 0: keep the classes as seeded (fast tests that run no benchmarks)
    postgres_port: int = 5432  # a private instance for tests that restart it (tests/faults)
    redis_url: str = "redis://127.0.0.1:6379/0"
    extra_env: dict[str, str] = field(default_factory=dict)
    tls: bool = field(default_factory=localnet_tls_default)  # LOCALNET_TLS=0: plain ws between nodes


class LocalNetwork:
    def __init__(self, config: NetworkConfig) -> None:
        self.config = config
        self.dir = config.directory
        self.nodes: list[Node] = []
        self.procs: list[Proc] = []
        self.supervisor: SupervisorThread | None = None
        self.credentials: dict[str, str] = {}
        self.dht_bootnode_port = 0
        self.chain_endpoint = ""

    # -- set-up ---------------------------------------------------------------------------------
    def prepare(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        ports = self._ports(1 + self.config.miners)
        self.nodes = [self._node("facilitator", "facilitator", ports[0], 0)]
        self.dht_bootnode_port = self._ports(1)[0] if self.config.port_base is None else self.config.port_base + 400
        # Validators dial out for their work, and serve HTTP (admin, the miners API) on their port.
        if self.config.port_base is None:
            validator_ports = self._ports(self.config.validators)
        else:
            validator_ports = [self.config.port_base + 200 + i for i in range(self.config.validators)]
        self.nodes += [
            self._node(f"validator{i}", "validator", validator_ports[i - 1], 10 * self.config.min_validator_stake)
            for i in range(1, self.config.validators + 1)
        ]
        self.nodes += [
            self._node(f"miner{i}", "miner", ports[i], self.config.min_validator_stake)
            for i in range(1, self.config.miners + 1)
        ]
        peers = [n for n in self.nodes if n.role != "facilitator"]
        dht_ports = self._ports(len(peers)) if self.config.port_base is None else None
        for i, node in enumerate(peers):
            node.dht_port = dht_ports[i] if dht_ports else self.config.port_base + 300 + i  # type: ignore[operator]
        if self.config.tls:  # the facilitator and the miners serve node-to-node TLS on a port of their own
            tls_assign([n for n in self.nodes if n.role != "validator"], self.dir / "tls", self.config.port_base)
        names = [self._db(n.name) for n in self.nodes] + [self._db("chain")]
        template, port = self._db("template"), self.config.postgres_port
        ensure_databases(template=template, names=names, env=self._base_env(), migrate_existing=True, port=port)
        if self.config.chain == "subtensor":
            self._start_subtensor()
        self._bootstrap()
        if self.config.calibrate_runs:
            self._size_classes()

    def _size_classes(self) -> None:
        """`cpu.small` gets this machine's cores shared by every executor, on the subnet owner's
        node (the first validator, which publishes the catalogue) and the facilitator's; then it
        is calibrated here, once per sizing."""
        size = class_size(executors=self.config.miners * self.config.executors)
        owner = next(n for n in self.nodes if n.role == "validator")
        resize = ["size_class", "cpu.small", "--cpus", str(size.cpus), "--memory-mb", str(size.memory_mb)]
        for node in (owner, self.nodes[0]):
            manage_checked([*resize, "--description", size.description], self._env(node))
        state_path = self.dir / "state.json"
        state = json.loads(state_path.read_text())
        sizing = [size.cpus, size.memory_mb, self.config.calibrate_runs, CALIBRATION_VERSION]
        if state.get("calibrated") != sizing:
            print(f"calibrating cpu.small ({size.cpus:g} CPU) on this machine ...", flush=True)
            runs = str(self.config.calibrate_runs)
            print(
                manage_checked(["calibrate_class", "cpu.small", "--runs", runs], self._env(owner)).strip(), flush=True
            )
            state["calibrated"] = sizing
            state_path.write_text(json.dumps(state))

    def _start_subtensor(self) -> None:
        """Chopsticks on the real runtime, then fund, register and stake every node on it."""
        port = self._ports(1)[0] if self.config.port_base is None else self.config.port_base + 44
        proc = chopsticks_proc(port=port, log_path=self.dir / "logs" / "chopsticks.log")
        proc.start()
        self.procs.append(proc)
        self.chain_endpoint = wait_for_rpc(port, proc)
        keys = self.dir / "keys"
        argv = ["chain_devnet", "--endpoint", self.chain_endpoint, "--coldkey", str(keys / "chain-coldkey.json")]
        argv += [f"--{n.role}={keys / (n.name + '.json')}" for n in self.nodes if n.role != "facilitator"]
        subprocess.run(manage(*argv), env=self._env(self.nodes[0]), cwd=ROOT, check=True, capture_output=True)

    def _node(self, name: str, role: str, port: int, stake: int) -> Node:
        hotkey = key_load_or_create(self.dir / "keys" / f"{name}.json")
        coldkey = key_load_or_create(self.dir / "keys" / f"{name}-coldkey.json").ss58
        return Node(name=name, role=role, hotkey=hotkey, coldkey=coldkey, port=port, stake=stake)

    def _ports(self, count: int) -> list[int]:
        if self.config.port_base is not None:
            return [self.config.port_base + (100 + i if i else 0) for i in range(count)]
        return free_ports(count)

    def _bootstrap(self) -> None:
        state_path = self.dir / "state.json"
        state = json.loads(state_path.read_text()) if state_path.exists() else {}
        state.setdefault("admin_password", secrets.token_urlsafe(12))
        # On a real runtime, chain_devnet registered the nodes; the plan only makes the user.
        on_local_chain = self.config.chain == "local"
        plan = {
            "nodes": [
                {"hotkey": n.hotkey.ss58, "coldkey": n.coldkey, "role": n.role, "stake": n.stake, "address": n.address}
                for n in self.nodes
                if n.role != "facilitator" and on_local_chain
            ],
            "user": {"username": "admin", "password": state["admin_password"], "credits": self.config.credits},
        }
        plan_path = self.dir / "plan.json"
        plan_path.write_text(json.dumps(plan))
        out = subprocess.run(
            manage("localnet_bootstrap", str(plan_path)),
            env=self._env(self.nodes[0]),
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        state["api_token"] = json.loads(out.stdout.strip().splitlines()[-1])["api_token"]
        for validator in (n for n in self.nodes if n.role == "validator"):  # their admin, same login
            admin_user_ensure(env=self._env(validator), password=state["admin_password"])
        state_path.write_text(json.dumps(state))
        os.chmod(state_path, 0o600)
        facilitator = self.nodes[0]
        self.credentials = {
            "facilitator_url": f"http://127.0.0.1:{facilitator.port}",
            "api_token": state["api_token"],
            "admin_url": f"http://127.0.0.1:{facilitator.port}/admin/",
            "admin_username": "admin",
            "admin_password": state["admin_password"],
        }

    # -- environment ------------------------------------------------------------------------------
    def _db(self, name: str) -> str:
        return f"{self.config.db_prefix}_{name}"

    def _base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MESHWORK_", "PYTEST"))}
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings.local",
                "CHAIN": "local",
                "CHAIN_DATABASE_URL": database_url(self._db("chain"), port=self.config.postgres_port),
                "REDIS_URL": self.config.redis_url,
                "CELERY_BROKER_URL": self.config.redis_url,
                "MIN_VALIDATOR_STAKE": str(self.config.min_validator_stake),
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.config.dht:
            env.update(
                {
                    "DHT_BOOTNODES": f"127.0.0.1:{self.dht_bootnode_port}",
                    "DHT_ALLOWED_NETWORKS": "127.0.0.0/8",
                    # Quicker than production so a local network discovers itself in seconds.
                    "DHT_HEARTBEAT_INTERVAL_S": "5",
                    "DHT_HEARTBEAT_LAPSE_S": "20",
                    "DHT_ROUTE_REQUIRE_HEARTBEAT": "1",
                    # Validators commit and reveal their scores over the DHT once a minute (the
                    # manifest and scores providers default by MESHWORK_ROLE).
                    "DHT_EPOCH_BLOCKS": "60",
                }
            )
        else:
            env["DHT_ROUTE_REQUIRE_HEARTBEAT"] = "0"  # no DHT processes: route on the chain alone
        if self.config.chain == "subtensor" and self.chain_endpoint:
            overrides = ",".join(f"{n.hotkey.ss58}={n.address}" for n in self.nodes if n.role == "miner")
            env.update(
                {
                    "CHAIN": "subtensor",
                    "CHAIN_ENDPOINT": self.chain_endpoint,
                    "CHAIN_NETUID": "1",
                    "CHAIN_COLDKEY_PATH": str(self.dir / "keys" / "chain-coldkey.json"),
                    "CHAIN_ADDRESS_OVERRIDES": overrides,
                }
            )
        else:
            env.update(local_chain_env(cycle_s=self.config.cycle_s))
        owner = next((n.hotkey.ss58 for n in self.nodes if n.role == "validator"), "")
        env.update(verification_env(owner_hotkey=owner, cycle_s=self.config.cycle_s))
        env.update(self.config.extra_env)
        return env

    def _env(self, node: Node) -> dict[str, str]:
        facilitator = self.nodes[0]
        env = self._base_env()
        env.update(
            {
                "MESHWORK_ROLE": node.role,
                "MESHWORK_NODE_NAME": node.name,
                "MESHWORK_REDIS_PREFIX": f"{self.config.db_prefix}:{node.name}",
                "DATABASE_URL": database_url(self._db(node.name), port=self.config.postgres_port),
                "MESHWORK_HOTKEY_PATH": str(self.dir / "keys" / f"{node.name}.json"),
                "FACILITATOR_URL": f"{'wss' if facilitator.tls_port else 'ws'}://{facilitator.address}/",
                "FACILITATOR_HOTKEY": facilitator.hotkey.ss58,
                "MINER_EXECUTOR_HOSTS": f"local=local;cpu.small={self.config.executors}",
                "PROMETHEUS_MULTIPROC_DIR": str(self.dir / "metrics" / node.name),  # docs/observability.md
            }
        )
        env.update(tls_env(self.dir / "tls", node.name, node.tls_port, enabled=self.config.tls))
        env.update(storage_env(self.dir, node.name) | rental_env())
        return env

    # -- running ----------------------------------------------------------------------------------
    def start(self, only: list[Node] | None = None) -> None:  # only: `make node` starts one node
        for node in self.nodes if only is None else only:
            env = self._env(node)
            shutil.rmtree(env["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)  # a previous run's samples
            Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True)
            main = {
                "facilitator": manage("run_facilitator", "--port", str(node.port)),
                "validator": manage("run_validator"),
                "miner": manage("run_miner", "--port", str(node.port)),
            }[node.role]
            node.procs.append(Proc(node.name, main, env, self.dir / "logs" / f"{node.name}.log"))
            if node.role == "validator":
                http = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(node.port), ASGI_APP]
                node.procs.append(Proc(f"{node.name}-http", http, env, self.dir / "logs" / f"{node.name}-http.log"))
            if self.config.celery and node.role in self.config.celery_roles:
                schedule = str(self.dir / f"celerybeat-{node.name}")
                # A validator's benchmark run holds a worker process for its deadlines: a second one
                # keeps its metagraph sync and weight reveals on time meanwhile.
                workers = "2" if node.role == "validator" else "1"
                argv = celery_worker(
                    node.role, "-B", "-s", schedule, "-l", "warning", "--concurrency", workers, "-n", f"{node.name}@%h"
                )
                node.procs.append(Proc(f"{node.name}-celery", argv, env, self.dir / "logs" / f"{node.name}-celery.log"))
            node.procs += self._dht_procs(node, env)
            for proc in node.procs:
                proc.start()
                self.procs.append(proc)

    def _dht_procs(self, node: Node, env: dict[str, str]) -> list[Proc]:
        """The facilitator's key runs the bootnode; validators and miners each run a DHT node."""
        if not self.config.dht:
            return []
        log = self.dir / "logs" / f"{node.name}-dht.log"
        if node.role == "facilitator":
            argv = manage("dht", "--bootnode", "--port", str(self.dht_bootnode_port))
        else:
            argv = manage("dht", "--role", node.role, "--port", str(node.dht_port))
            if node.address:
                argv += ["--address", node.address]
        return [Proc(f"{node.name}-dht", argv, env, log)]

    def wait_ready(self, timeout: float = 90.0, on_ready: Callable[[Node], None] = lambda node: None) -> None:
        """Servers answer /healthz/; validators count once the facilitator has their session."""
        deadline = time.monotonic() + timeout
        pending = list(self.nodes)
        while pending and time.monotonic() < deadline:
            self._check_alive()
            connected = self._validators_connected()
            for node in list(pending):
                if node.role == "validator":
                    up = node.hotkey.ss58 in connected and self._sees_miners_in_dht(node) and http_ok(node.health_url)
                else:
                    up = http_ok(node.health_url)
                if up:
                    pending.remove(node)
                    on_ready(node)
            time.sleep(0.2)
        if pending:
            raise TimeoutError(f"network not ready after {timeout:.0f}s; waiting on {[n.name for n in pending]}")

    def _sees_miners_in_dht(self, validator: Node) -> bool:
        """A validator is ready once its DHT process has heard every miner's ONLINE heartbeat."""
        if not self.config.dht:
            return True
        miners = {n.hotkey.ss58 for n in self.nodes if n.role == "miner"}
        holder, port = validator.hotkey.ss58, self.config.postgres_port
        return miners <= dht_online_miners(database=self._db(validator.name), holder=holder, port=port)

    def _validators_connected(self) -> set[str]:
        return validators_connected(database=self._db("facilitator"), port=self.config.postgres_port)

    def _check_alive(self) -> None:
        for proc in self.procs:
            if not proc.alive and proc.popen is not None and proc.popen.returncode not in (None, -9):
                raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.tail()}")

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def kill(self, name: str) -> None:
        for proc in self.node(name).procs:
            proc.kill()

    def revive(self, name: str) -> None:
        """Starts again whichever of a node's processes is not running (after a kill or a crash)."""
        for proc in self.node(name).procs:
            if not proc.alive:
                proc.start()

    def supervise(self, report: Callable[[str], None] = print, backoff: Backoff | None = None) -> Supervisor:
        """From now on a process that dies is reported and restarted with backoff (`make localnet`)."""
        supervisor = Supervisor(self.procs, backoff=backoff or Backoff(), report=report)
        self.supervisor = SupervisorThread(supervisor)
        self.supervisor.start()
        return supervisor

    def stop(self) -> None:
        if self.supervisor is not None:  # first, so nothing is restarted while it stops
            self.supervisor.stop()
        stop_all(self.procs)
        self.sweep([n for n in self.nodes if n.role == "miner"])

    def sweep(self, miners: list[Node]) -> None:
        """Remove job containers a killed miner left behind (a running miner removes its own)."""
        procs = [
            subprocess.Popen(manage("sweep_executors"), env=self._env(m), cwd=ROOT, stdout=subprocess.DEVNULL)
            for m in miners
        ]
        for proc in procs:
            proc.wait()

    def write_credentials(self) -> Path:
        path = self.dir / "credentials.json"
        nodes = [{"name": n.name, "role": n.role, "hotkey": n.hotkey.ss58, "url": n.url} for n in self.nodes]
        path.write_text(json.dumps({**self.credentials, "nodes": nodes}, indent=2) + "\n")
        os.chmod(path, 0o600)
        return path
