#!/usr/bin/env bash
# Runs the Node peer and switchboard through the same scenarios, each run against a fresh
# server, and writes the table into docs/PERFORMANCE.md (between its compare markers).
#
#   bench/compare.sh                              # node, memory, sqlite
#   bench/compare.sh --stores memory,sqlite,postgres,mongo
#   bench/compare.sh --scenarios chat,idle --no-doc
#   bench/compare.sh --stores sqlite,sqlite+native  # +native: the native protocol on /ws
#
# Scenario sizes (environment): CHAT_CLIENTS=100 CHAT_ROOMS=50 CHAT_RATE=10000 DURATION=10
# WINDOW=4 MEMBERS=1000 MESSAGES=100 FANOUT_RATE=10 CONNECTIONS=10000 HOLD=30.
# Elsewhere: SWITCHBOARD_BIN (default target/release/switchboard, built when missing), OUT
# (result directory, default /tmp/bench-compare-<time>), QUIET_WAIT (see run.sh). postgres
# needs a server at BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432, trust auth);
# mongo a MongoDB wire server at BENCH_MONGO (default 127.0.0.1:27017:
# scripts/mongo-test-servers.sh starts one).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
stores=memory,sqlite
scenarios=chat,chat-closed,fanout,idle
write_doc=1
while [ $# -gt 0 ]; do
  case "$1" in
    --stores) stores="$2"; shift 2 ;;
    --scenarios) scenarios="$2"; shift 2 ;;
    --no-doc) write_doc=0; shift ;;
    *) sed -n '2,17p' "$0" >&2; exit 2 ;;
  esac
done

out="${OUT:-/tmp/bench-compare-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
export SWITCHBOARD_BIN="${SWITCHBOARD_BIN:-$root/target/release/switchboard}"
export LOADGEN_BIN="$root/bench/loadgen/target/release/loadgen"
doc="$root/docs/PERFORMANCE.md"
began=$(date +%s)

# Build what is missing (each only once; a rebuild is the caller's choice).
if [ ! -x "$LOADGEN_BIN" ]; then
  cargo build --release --manifest-path "$root/bench/loadgen/Cargo.toml"
fi
if [ ! -d "$root/bench/node-peer/node_modules/socket.io" ]; then
  (cd "$root/bench/node-peer" && npm ci --no-audit --no-fund)
fi
if [ ! -x "$SWITCHBOARD_BIN" ]; then
  (cd "$root" && cargo build --release)
fi

declare -A args=(
  [chat]="--clients ${CHAT_CLIENTS:-100} --rooms ${CHAT_ROOMS:-50} --rate ${CHAT_RATE:-10000} --duration ${DURATION:-10}"
  [chat-closed]="--clients ${CHAT_CLIENTS:-100} --rooms ${CHAT_ROOMS:-50} --window ${WINDOW:-4} --duration ${DURATION:-10}"
  [fanout]="--members ${MEMBERS:-1000} --messages ${MESSAGES:-100} --rate ${FANOUT_RATE:-10}"
  [idle]="--connections ${CONNECTIONS:-10000} --hold ${HOLD:-30}"
)

# Why a run failed, for the doc: the generator's last word and the server's last error.
why() {
  local said err
  said=$(grep -Ev '^\[|^[0-9]{4}-[0-9]{2}-' "$1" | tail -1 | cut -c1-160)
  err=$(grep -E '^[0-9]{4}-.* ERROR ' "$1" | tail -1 | sed -E 's/^[^ ]+ +ERROR +//' | cut -c1-240)
  echo "${said:-no message}${err:+; server error: $err}"
}

results=()
failures=()
n=0
IFS=, read -ra scenario_list <<<"$scenarios"
IFS=, read -ra store_list <<<"$stores"
# Scenario by scenario, so the runs compared in one table are close in time.
for scenario in "${scenario_list[@]}"; do
  [ -n "${args[$scenario]:-}" ] || { echo "unknown scenario $scenario" >&2; exit 2; }
  for server in node "${store_list[@]}"; do
    n=$((n + 1))
    # <store>+native: switchboard on that store, driven over its native protocol (/ws on the
    # native listener) instead of linsta's Socket.IO.
    store="${server%+native}"
    protocol=()
    if [ "$server" = node ]; then label=node
    elif [ "$store" != "$server" ]; then label="switchboard $store, native"; protocol=(--url ws://127.0.0.1:3000/ws)
    else label="switchboard $server"; fi
    file="$out/$(printf %02d "$n")-$scenario-$server.json"
    echo "[compare] $scenario, $label" >&2
    # shellcheck disable=SC2086 # the scenario's options are words
    log="$out/$(basename "$file" .json).log"
    if "$root/bench/run.sh" "$store" "$scenario" ${args[$scenario]} "${protocol[@]}" --label "$label" --out "$file" \
        2> >(tee "$log" >&2); then
      results+=("$file")
    else
      sleep 1 # let tee finish the log
      failures+=("$scenario on $label: $(why "$log")")
    fi
  done
done
minutes=$(( ($(date +%s) - began + 59) / 60 ))

"$LOADGEN_BIN" table "${results[@]}" >"$out/tables.md"

# What made the figures, for the doc.
server_commit=$(git -C "$root" log -1 --format=%h -- src Cargo.toml Cargo.lock migrations)
{
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/compare.sh --stores $stores --scenarios $scenarios\`;"
  echo "the whole run took about $minutes min."
  echo
  echo "- switchboard: the server as of commit \`$server_commit\` (the last one touching its source;"
  echo "  checkout at \`$(git -C "$root" rev-parse --short HEAD)\`$(git -C "$root" diff --quiet HEAD -- src Cargo.toml Cargo.lock || echo ', with uncommitted changes')),"
  echo "  binary built $(date -u -r "$SWITCHBOARD_BIN" '+%Y-%m-%d %H:%M UTC')."
  echo "- Node peer: Node $(node --version), socket.io $(node -p "require('$root/bench/node-peer/node_modules/socket.io/package.json').version")."
  echo "- Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores,"
  echo "  $(free -g | awk '/^Mem:/ { print $2 }') GiB of memory (\`free -g\`), $(uname -sr); the load generator runs on the same cores."
  echo "- Sizes: chat \`${args[chat]}\`; chat-closed \`${args[chat-closed]}\`;"
  echo "  fanout \`${args[fanout]}\`; idle \`${args[idle]}\`."
  echo
  if [ ${#failures[@]} -gt 0 ]; then
    echo "Runs that failed (not in the tables):"
    for f in "${failures[@]}"; do echo "- $f"; done
    echo
  fi
  cat "$out/tables.md"
} >"$out/section.md"

cat "$out/section.md"
if [ "$write_doc" = 1 ]; then
  grep -q '^<!-- compare:begin -->$' "$doc" && grep -q '^<!-- compare:end -->$' "$doc" \
    || { echo "$doc has no compare markers; the table is in $out/section.md" >&2; exit 1; }
  awk -v section="$out/section.md" '
    /^<!-- compare:begin -->$/ { print; while ((getline line < section) > 0) print line; skip = 1; next }
    /^<!-- compare:end -->$/ { skip = 0 }
    !skip { print }
  ' "$doc" >"$doc.tmp" && mv "$doc.tmp" "$doc"
  echo "[compare] wrote $doc (results in $out)" >&2
fi
[ ${#failures[@]} -eq 0 ]
