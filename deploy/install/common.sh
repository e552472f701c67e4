# shellcheck shell=bash
# Meshwork node installer: the library behind deploy/install_validator.sh and install_miner.sh.
# deploy/install/generate.sh embeds this file in both, so `curl … | bash -s - DEST HOTKEY_PATH`
# works with nothing else to fetch; edit this file, then run generate.sh (a test checks).
#
# usage: install_<role>.sh [--dry-run] [--register --coldkey SS58] [--serve HOST:PORT] [--port N]
#                          [--prefix DIR] [--no-start] [SSH_DESTINATION] HOTKEY_PATH
# Environment: MESHWORK_SSH_OPTIONS (more ssh/scp options), MESHWORK_PROJECT (compose project), MESHWORK_REPO (git URL of the code), MESHWORK_REF (branch or tag), and for the node's
# .env FACILITATOR_URL, FACILITATOR_HOTKEY, CHAIN (default subtensor), CHAIN_ENDPOINT, CHAIN_NETUID,
# CHAIN_DATABASE_URL (CHAIN=local), DHT_BOOTNODES.

MESHWORK_REPO_DEFAULT="https://github.com/meshwork-subnet/meshwork.git"  # placeholder: set MESHWORK_REPO
STEP_NO=0
# Settings an install on an SSH destination takes along from this shell.
FORWARDED_SETTINGS="MESHWORK_REPO MESHWORK_REF MESHWORK_PORT MESHWORK_PROJECT MESHWORK_APP_IMAGE FACILITATOR_URL FACILITATOR_HOTKEY CHAIN CHAIN_ENDPOINT
  CHAIN_NETUID CHAIN_DATABASE_URL DHT_BOOTNODES"

say() { printf '%s\n' "$*"; }
die() { printf '%s: %s\n' "$INSTALLER" "$*" >&2; exit 1; }

# A step: its title, then the function doing it; the first failing step stops the install by name.
step() {
  local title=$1
  shift
  STEP_NO=$((STEP_NO + 1))
  say "[$STEP_NO] $title"
  if ! "$@"; then
    printf '%s: step %d (%s) failed\n' "$INSTALLER" "$STEP_NO" "$title" >&2
    exit 1
  fi
}

# A command that changes the machine: printed under --dry-run, run otherwise.
run() {
  if [ "$DRY_RUN" = 1 ]; then
    say "    would run: $*"
  else
    "$@"
  fi
}

usage() {
  say "usage: $INSTALLER [--dry-run] [--register --coldkey SS58] [--serve HOST:PORT] [--port N]"
  say "       [--prefix DIR] [--no-start] [SSH_DESTINATION] HOTKEY_PATH"
}

parse_args() {
  DRY_RUN=0 REGISTER=0 COLDKEY="" SERVE="" START=1 DEST="" HOTKEY_PATH="" REMOTE=0
  PORT=${MESHWORK_PORT:-$([ "$ROLE" = miner ] && echo 8100 || echo 8200)}
  PREFIX=${MESHWORK_PREFIX:-/opt/meshwork-$ROLE}
  PROJECT=${MESHWORK_PROJECT:-meshwork-$ROLE}  # the compose project: two nodes of a role on one host
  local positional=()
  while [ $# -gt 0 ]; do
    case $1 in
      --dry-run) DRY_RUN=1 ;;
      --register) REGISTER=1 ;;
      --coldkey) [ $# -ge 2 ] || die "--coldkey needs an SS58 address"; COLDKEY=$2; shift ;;
      --serve) [ $# -ge 2 ] || die "--serve needs HOST:PORT"; SERVE=$2; shift ;;
      --port) [ $# -ge 2 ] || die "--port needs a number"; PORT=$2; shift ;;
      --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; PREFIX=$2; shift ;;
      --no-start) START=0 ;;
      --remote) REMOTE=1 ;;  # internal: this run is the one on the SSH destination
      -h|--help) usage; exit 0 ;;
      --) shift; positional+=("$@"); break ;;
      -*) die "unknown option $1 (see --help)" ;;
      *) positional+=("$1") ;;
    esac
    shift
  done
  case ${#positional[@]} in
    1) HOTKEY_PATH=${positional[0]} ;;
    2) DEST=${positional[0]}; HOTKEY_PATH=${positional[1]} ;;
    0) usage >&2; die "HOTKEY_PATH is missing" ;;
    *) usage >&2; die "too many arguments: ${positional[*]}" ;;
  esac
  if ! [[ $PORT =~ ^[0-9]+$ ]] || [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then
    die "--port must be 1-65535, not '$PORT'"
  fi
  [ "$REGISTER" = 0 ] || [ -n "$COLDKEY" ] || die "--register needs --coldkey SS58 (the coldkey that owns the hotkey)"
  [ -z "$SERVE" ] || [[ $SERVE =~ ^[A-Za-z0-9.:-]+:[0-9]{1,5}$ ]] || die "--serve must be HOST:PORT, not '$SERVE'"
  [ -z "$DEST" ] || check_destination_syntax "$DEST"
  if [ ! -e "$HOTKEY_PATH" ] && looks_like_a_key "$HOTKEY_PATH"; then  # never echoed: it may be a secret
    die "HOTKEY_PATH looks like a key, not a path: pass the file \`manage.py keygen --path FILE\` wrote"
  fi
}

# A seed (hex), an SS58 address or a mnemonic passed where the key file's path belongs.
looks_like_a_key() {
  [[ $1 =~ ^(0x)?[0-9a-fA-F]{64}$ || $1 =~ ^5[1-9A-HJ-NP-Za-km-z]{46,47}$ || $1 == *" "*" "* ]]
}

# --- checks (read-only: they run under --dry-run too) ---------------------------------------------
check_system() {
  local release=${MESHWORK_OS_RELEASE:-/etc/os-release} arch id like
  arch=${MESHWORK_ARCH:-$(uname -m)}
  [ -r "$release" ] || { say "    cannot read $release: not a supported system (Debian or Ubuntu)"; return 1; }
  id=$(sed -n 's/^ID=//p' "$release" | tr -d '"')
  like=$(sed -n 's/^ID_LIKE=//p' "$release" | tr -d '"')
  case " $id $like " in
    *" debian "*|*" ubuntu "*) ;;
    *) say "    unsupported system '$id': Meshwork installs on Debian or Ubuntu"; return 1 ;;
  esac
  case $arch in
    x86_64|amd64|aarch64|arm64) say "    $id on $arch" ;;
    *) say "    unsupported architecture '$arch': x86_64 or arm64 only"; return 1 ;;
  esac
}

check_hotkey() {
  if [ ! -e "$HOTKEY_PATH" ]; then
    say "    no such file: $HOTKEY_PATH"
    return 1
  fi
  if ! [ -f "$HOTKEY_PATH" ] || ! [ -r "$HOTKEY_PATH" ]; then
    say "    $HOTKEY_PATH is not a readable file"
    return 1
  fi
  if ! grep -q '"secret_seed"' "$HOTKEY_PATH" || ! grep -q '"ss58_address"' "$HOTKEY_PATH"; then
    say "    $HOTKEY_PATH is not a keygen hotkey file (JSON with secret_seed and ss58_address)"
    return 1
  fi
  HOTKEY_SS58=$(sed -n 's/.*"ss58_address": *"\([^"]*\)".*/\1/p' "$HOTKEY_PATH")
  say "    hotkey $HOTKEY_SS58"
}

check_port() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    if [ -f "$PREFIX/.env" ]; then
      say "    port $PORT answers: the node installed earlier in $PREFIX (a re-run)"
      return 0
    fi
    say "    port $PORT is already taken on this machine: pick another with --port"
    return 1
  fi
  say "    port $PORT is free"
}

# SSH_HOST ([user@]host) and SSH_PORT (22) from [user@]host or ssh://[user@]host[:port]: scp takes
# no ssh:// destination with a path, so both are called with -p/-P.
check_destination_syntax() {
  local rest=${1#ssh://}
  [[ $1 =~ ^([A-Za-z0-9._-]+@)?[A-Za-z0-9][A-Za-z0-9.-]*$|^ssh://([A-Za-z0-9._-]+@)?[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]{1,5})?$ ]] ||
    die "SSH_DESTINATION must be [user@]host or ssh://[user@]host[:port], not '$1'"
  SSH_HOST=${rest%:*} SSH_PORT=22
  read -r -a SSH_OPTS <<<"${MESHWORK_SSH_OPTIONS:-}"  # e.g. "-i ~/.ssh/deploy_key" or "-F ssh_config"
  [ "$rest" = "$SSH_HOST" ] || SSH_PORT=${rest##*:}
}

check_destination_reachable() {
  local out
  if [ "$DRY_RUN" = 1 ]; then
    run ssh "${SSH_OPTS[@]}" -o BatchMode=yes -o ConnectTimeout=10 -p "$SSH_PORT" "$SSH_HOST" true
    return
  fi
  out=$(ssh "${SSH_OPTS[@]}" -o BatchMode=yes -o ConnectTimeout=10 -p "$SSH_PORT" "$SSH_HOST" true 2>&1) && return 0
  say "    cannot log in to $DEST over SSH (key-based login needed): ${out//$'\n'/ }"
  return 1
}

# --- actions --------------------------------------------------------------------------------------
compose_cmd() {
  if docker compose version >/dev/null 2>&1; then echo "docker compose"; else echo "docker-compose"; fi
}

install_docker() {
  if command -v docker >/dev/null 2>&1 && { docker compose version || docker-compose version; } >/dev/null 2>&1; then
    say "    docker and compose are installed"
    return 0
  fi
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  run $sudo apt-get update -qq && run $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io docker-compose
}

fetch_code() {
  local repo=${MESHWORK_REPO:-$MESHWORK_REPO_DEFAULT} ref=${MESHWORK_REF:-}
  if [ -d "$PREFIX/src/.git" ]; then
    run git -C "$PREFIX/src" fetch -q origin || return 1
    run git -C "$PREFIX/src" checkout -q "${ref:-origin/HEAD}"
  else
    run mkdir -p "$PREFIX" && run git clone -q ${ref:+--branch "$ref"} "$repo" "$PREFIX/src"
  fi
}

secret() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

# .env: written once with generated secrets; a re-run keeps every value and adds what is missing.
write_env() {
  local env=$PREFIX/.env key value
  local -a wanted=(
    "MESHWORK_ROLE=$ROLE" "MESHWORK_HOME=$PREFIX" "MESHWORK_PORT=$PORT" "MESHWORK_DHT_PORT=$((PORT + 1))"
    "DJANGO_SETTINGS_MODULE=config.settings.production" "DJANGO_SECRET_KEY=$(secret)" "POSTGRES_PASSWORD=$(secret)"
    "CHAIN=${CHAIN:-subtensor}" "CHAIN_ENDPOINT=${CHAIN_ENDPOINT:-}" "CHAIN_NETUID=${CHAIN_NETUID:-}"
    "CHAIN_DATABASE_URL=${CHAIN_DATABASE_URL:-}"
    "FACILITATOR_URL=${FACILITATOR_URL:-}" "FACILITATOR_HOTKEY=${FACILITATOR_HOTKEY:-}"
    "DHT_BOOTNODES=${DHT_BOOTNODES:-}"
  )
  if [ "$DRY_RUN" = 1 ]; then
    say "    would write $env (mode 0600): ${wanted[*]%%=*} (existing values kept)"
    return 0
  fi
  mkdir -p "$PREFIX" && touch "$env" && chmod 600 "$env" || return 1
  for pair in "${wanted[@]}"; do
    key=${pair%%=*} value=${pair#*=}
    # An unset setting stays out of .env, so the node's own default applies.
    [ -z "$value" ] || grep -q "^$key=" "$env" || printf '%s=%s\n' "$key" "$value" >>"$env"
  done
  say "    $env ($(wc -l <"$env") settings)"
}

# Readable by the containers' user (the app image runs as 65534, the miner's node as root) only.
install_hotkey() {
  local -a owner=()
  [ "$(id -u)" != 0 ] || owner=(-o 65534 -g 65534)
  run install -d -m 700 "${owner[@]}" "$PREFIX/keys" &&
    run install -m 600 "${owner[@]}" "$HOTKEY_PATH" "$PREFIX/keys/hotkey.json"
}

compose() {
  # shellcheck disable=SC2046  # the compose command is one or two words
  run $(compose_cmd) --env-file "$PREFIX/.env" -p "$PROJECT" -f "$PREFIX/src/deploy/compose/node.yml" "$@"
}

register_node() {
  compose run --rm node python manage.py chain register --coldkey "$COLDKEY" --role "$ROLE"
}

serve_node() {
  compose run --rm node python manage.py chain serve --address "$SERVE"
}

start_services() {
  MESHWORK_HOME=$PREFIX compose up -d
}

check_ready() {
  local url="http://127.0.0.1:$PORT"
  if [ "$DRY_RUN" = 1 ]; then
    say "    would wait for $url/readyz/ (or /healthz/)"
    return 0
  fi
  for _ in $(seq 60); do
    if curl -fsS "$url/readyz/" >/dev/null 2>&1 || curl -fsS "$url/healthz/" >/dev/null 2>&1; then
      say "    $url is ready"
      return 0
    fi
    sleep 2
  done
  say "    $url did not become ready in 2 minutes; see the logs command below"
  return 1
}

print_next() {
  say "Meshwork $ROLE installed in $PREFIX (hotkey ${HOTKEY_SS58:-?})."
  say "  admin:  http://127.0.0.1:$PORT/admin/ (create a login: $(compose_cmd) -p $PROJECT exec node python manage.py createsuperuser)"
  say "  logs:   $(compose_cmd) --env-file $PREFIX/.env -p $PROJECT -f $PREFIX/src/deploy/compose/node.yml logs -f"
  say "  health: curl http://127.0.0.1:$PORT/readyz/"
}

# --- the two ways to run ----------------------------------------------------------------------
install_here() {
  step "check the system (Debian/Ubuntu, x86_64/arm64)" check_system
  step "check the hotkey file $HOTKEY_PATH" check_hotkey
  step "check port $PORT" check_port
  step "install Docker and docker-compose when missing" install_docker
  step "fetch the code into $PREFIX/src" fetch_code
  step "write $PREFIX/.env" write_env
  step "install the hotkey in $PREFIX/keys (0600)" install_hotkey
  [ "$REGISTER" = 0 ] || step "register the hotkey as a $ROLE" register_node
  [ -z "$SERVE" ] || step "serve $SERVE on the chain" serve_node
  if [ "$START" = 1 ]; then
    step "start the services" start_services
    step "check readiness" check_ready
  fi
  print_next
}

# On a destination: copy the hotkey there, then run these same functions there over SSH.
install_there() {
  step "check the hotkey file $HOTKEY_PATH" check_hotkey
  step "check $DEST answers over SSH" check_destination_reachable
  local remote_key=/tmp/meshwork-hotkey-$ROLE.json
  step "copy the hotkey to $SSH_HOST:$remote_key" copy_hotkey "$remote_key"
  local -a args=(--remote --port "$PORT" --prefix "$PREFIX")
  [ "$DRY_RUN" = 0 ] || args+=(--dry-run)
  [ "$REGISTER" = 0 ] || args+=(--register --coldkey "$COLDKEY")
  [ -z "$SERVE" ] || args+=(--serve "$SERVE")
  [ "$START" = 1 ] || args+=(--no-start)
  step "run the $ROLE installer on $DEST" run_there "${args[@]}" "$remote_key"
}

copy_hotkey() {
  local out
  if [ "$DRY_RUN" = 1 ]; then
    run scp "${SSH_OPTS[@]}" -q -o BatchMode=yes -P "$SSH_PORT" "$HOTKEY_PATH" "$SSH_HOST:$1"
    return
  fi
  out=$(scp "${SSH_OPTS[@]}" -q -o BatchMode=yes -P "$SSH_PORT" "$HOTKEY_PATH" "$SSH_HOST:$1" 2>&1) && return 0
  say "    ${out//$'\n'/ }"
  return 1
}

# What the destination runs: this installer's functions and settings, then install_main.
run_there() {
  local script name
  script="set -euo pipefail; STEP_NO=0; $(declare -f)"
  for name in INSTALLER ROLE MESHWORK_REPO_DEFAULT $FORWARDED_SETTINGS; do
    [ -z "${!name:-}" ] || script+=$'\n'"$name=$(printf '%q' "${!name}")"
  done
  script+=$'\n'"install_main $(printf '%q ' "$@")"
  if [ "$DRY_RUN" = 1 ]; then
    say "    would run over ssh $DEST: bash -s (this installer's functions) -- $*"
    return 0
  fi
  ssh "${SSH_OPTS[@]}" -o BatchMode=yes -p "$SSH_PORT" "$SSH_HOST" bash -s <<<"$script"
}

install_main() {
  parse_args "$@"
  [ "$DRY_RUN" = 0 ] || say "dry run: every step is printed, nothing is changed"
  if [ -n "$DEST" ]; then install_there; else install_here; fi
  if [ "$REMOTE" = 1 ]; then run rm -f "$HOTKEY_PATH"; fi  # the copy in /tmp; the node keeps its own
}
