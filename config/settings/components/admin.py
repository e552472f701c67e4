"""The admin: django-unfold as its theme (a sidebar per role, config/admin_sidebar.py) and the
runtime-tunable parameters (django-constance, database backend) an operator edits there without a
restart. Read through `protocol.tunables.tunable`, which falls back to the settings below, so the
environment keeps giving the defaults (docs/admin.md)."""

from typing import Any

from config.env import env
from config.settings.components.chain import MIN_VALIDATOR_STAKE
from config.settings.components.meshwork import (
    EXECUTOR_MAX_LOG_BYTES,
    EXECUTOR_MAX_OUTPUT_BYTES,
    FACILITATOR_MAX_INPUT_BYTES,
    MINER_BENCH_MAX_STARTS_PER_HOUR,
    MINER_IMAGE_ALLOWLIST,
    MINER_SHARE_WINDOW_S,
    VALIDATOR_QUEUE_TIMEOUT_S,
    VALIDATOR_RESERVE_TIMEOUT_S,
    VALIDATOR_STAGE_LEEWAY_S,
)
from config.settings.components.node import MESHWORK_ROLE, NODE_NAME
from config.settings.components.verification import VALIDATOR_CYCLE_S, VALIDATOR_DEADLINE_FACTOR

UNFOLD: dict[str, Any] = {
    "SITE_TITLE": f"Meshwork {MESHWORK_ROLE.value}",
    "SITE_HEADER": f"Meshwork · {NODE_NAME}",
    "SITE_SUBHEADER": f"{MESHWORK_ROLE.value} node",
    "SITE_SYMBOL": "hub",
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "DASHBOARD_CALLBACK": "config.admin_sidebar.dashboard_links",
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": "config.admin_sidebar.sidebar",
    },
}

CONSTANCE_BACKEND = "constance.backends.database.DatabaseBackend"
CONSTANCE_SUPERUSER_ONLY = True
CONSTANCE_ADDITIONAL_FIELDS = {
    "image_list": [
        "django.forms.CharField",
        {"widget": "unfold.widgets.UnfoldAdminTextInputWidget", "required": False},
    ],
}
# name: (default = the setting's value at start-up, help text[, field type]). Only names a tunable
# read routes through constance; `protocol.tunables` converts `image_list` back to a list.
CONSTANCE_CONFIG: dict[str, tuple[Any, ...]] = {
    "MIN_VALIDATOR_STAKE": (
        MIN_VALIDATOR_STAKE,
        "Least stake (rao) a validator needs for this node to accept its jobs, benchmarks and receipts.",
    ),
    "MINER_IMAGE_ALLOWLIST": (
        ",".join(MINER_IMAGE_ALLOWLIST),
        "Miner: images jobs may run, comma-separated (`repo:tag`, or `repo` for every tag); empty allows all.",
        "image_list",
    ),
    "VALIDATOR_CYCLE_S": (
        float(VALIDATOR_CYCLE_S),
        "Validator: benchmark cycle length in seconds; 0 follows the chain's tempo.",
    ),
    "VALIDATOR_DEADLINE_FACTOR": (
        float(VALIDATOR_DEADLINE_FACTOR),
        "Validator: a benchmark's deadline is the class's spin-up allowance + its reference time × this.",
    ),
    "VALIDATOR_STAGE_LEEWAY_S": (
        float(VALIDATOR_STAGE_LEEWAY_S),
        "Validator: seconds a miner may take past a job's timeout to report its start and its end.",
    ),
    "VALIDATOR_RESERVE_TIMEOUT_S": (
        float(VALIDATOR_RESERVE_TIMEOUT_S),
        "Validator: seconds a miner has to answer a reservation.",
    ),
    "VALIDATOR_QUEUE_TIMEOUT_S": (
        float(VALIDATOR_QUEUE_TIMEOUT_S),
        "Validator: seconds a job waits for a free miner before it fails.",
    ),
    "FACILITATOR_MAX_INPUT_BYTES": (
        FACILITATOR_MAX_INPUT_BYTES,
        "Facilitator: largest inline job input in bytes (at most the request size the process started with).",
    ),
    "EXECUTOR_MAX_LOG_BYTES": (EXECUTOR_MAX_LOG_BYTES, "Executor: bytes of each log stream a job keeps."),
    "EXECUTOR_MAX_OUTPUT_BYTES": (EXECUTOR_MAX_OUTPUT_BYTES, "Executor: largest output zip of a job, in bytes."),
    "MINER_BENCH_MAX_STARTS_PER_HOUR": (
        MINER_BENCH_MAX_STARTS_PER_HOUR,
        "Miner: benchmark challenges one validator may start per hour.",
    ),
    "MINER_SHARE_WINDOW_S": (
        float(MINER_SHARE_WINDOW_S),
        "Miner: seconds a validator's last request keeps its unused stake share free of others' jobs.",
    ),
}
CONSTANCE_CONFIG_FIELDSETS = {
    "Deadlines": ("VALIDATOR_DEADLINE_FACTOR", "VALIDATOR_STAGE_LEEWAY_S", "VALIDATOR_RESERVE_TIMEOUT_S"),
    "Cycle and queue": ("VALIDATOR_CYCLE_S", "VALIDATOR_QUEUE_TIMEOUT_S"),
    "Limits": (
        "FACILITATOR_MAX_INPUT_BYTES",
        "EXECUTOR_MAX_LOG_BYTES",
        "EXECUTOR_MAX_OUTPUT_BYTES",
        "MINER_BENCH_MAX_STARTS_PER_HOUR",
    ),
    "Access": ("MIN_VALIDATOR_STAKE", "MINER_IMAGE_ALLOWLIST", "MINER_SHARE_WINDOW_S"),
}
# A tunable is read from the database at most this often per process (0: on every read).
TUNABLES_REFRESH_S = env.float("TUNABLES_REFRESH_S", default=2.0)
