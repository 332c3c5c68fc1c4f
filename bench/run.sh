#!/usr/bin/env bash
# Starts a fresh server, waits for the machine to be quiet, runs one loadgen scenario
# against it, stops the server.
#
#   bench/run.sh <node|memory|sqlite|postgres|mongo> <chat|chat-closed|fanout|idle> [loadgen options]
#
# e.g. bench/run.sh memory chat --rate 10000 --duration 10 --out /tmp/chat.json
#
# node is the Node peer (bench/node-peer, in memory); the others are switchboard on that store.
# Environment: SWITCHBOARD_BIN (default target/release/switchboard), LOADGEN_BIN (default
# bench/loadgen/target/release/loadgen), BENCH_DB (SQLite file, default /tmp/bench.db, deleted
# before the start), BENCH_SERVER_LOG (default /tmp/bench-server.log), BENCH_POSTGRES (server
# URL without a database, default postgres://postgres@127.0.0.1:5432), BENCH_MONGO (default
# 127.0.0.1:27017), QUIET_WAIT (seconds to wait for a quiet machine, default 300; 0: don't).
# postgres and mongo runs get a fresh database, dropped afterwards.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage="usage: bench/run.sh node|memory|sqlite|postgres|mongo chat|chat-closed|fanout|idle [loadgen options]"
server="${1:?$usage}"
scenario="${2:?$usage}"
shift 2

bin="${SWITCHBOARD_BIN:-$root/target/release/switchboard}"
loadgen="${LOADGEN_BIN:-$root/bench/loadgen/target/release/loadgen}"
db="${BENCH_DB:-/tmp/bench.db}"
server_log="${BENCH_SERVER_LOG:-/tmp/bench-server.log}"
quiet_wait="${QUIET_WAIT:-300}"
[ -x "$loadgen" ] || { echo "no loadgen at $loadgen: cargo build --release --manifest-path bench/loadgen/Cargo.toml" >&2; exit 2; }

# 10,000 idle connections need as many descriptors in the server and in the generator.
ulimit -n "$(ulimit -Hn)"

for port in 3000 3001; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is already in use: stop whatever listens there first" >&2
    exit 2
  fi
done

export JWT_SECRET=bench-secret
if [ "$server" = node ]; then
  [ -d "$root/bench/node-peer/node_modules/socket.io" ] || { echo "run npm ci in $root/bench/node-peer first" >&2; exit 2; }
  export PORT=3001 SERVICE_KEY=bench-key NODE_ENV=production
  start=(node "$root/bench/node-peer/server.mjs")
  rest=http://127.0.0.1:3001
else
  [ -x "$bin" ] || { echo "no server binary at $bin: cargo build --release" >&2; exit 2; }
  export APP__AUTH__SERVICE_KEY=bench-key
  # No per-connection event limit, no per-user connection cap, no REST rate limits: the
  # bench measures the server's cost, not its limits (and opens rooms in a burst).
  export APP__LIMITS__EVENTS_PER_SECOND=0 APP__LIMITS__MAX_CONNECTIONS_PER_USER=0
  export APP__LIMITS__REST_REQUESTS_PER_SECOND_PER_USER=0 APP__LIMITS__REST_REQUESTS_PER_SECOND_PER_ADDRESS=0
  export APP__LOG__FILTER=warn
  export APP__BLOBS__DIR=/tmp/switchboard-bench-uploads
  start=("$bin" serve)
  rest=http://127.0.0.1:3000
  case "$server" in
    memory) export APP__STORE__KIND=memory ;;
    sqlite)
      rm -f "$db" "$db-wal" "$db-shm" "$db-journal"
      export APP__STORE__KIND=sqlite APP__STORE__SQLITE_PATH="$db"
      ;;
    postgres)
      pg="${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
      database="bench_$(date +%s)_$$"
      psql -q "$pg/postgres" -c "CREATE DATABASE $database"
      drop_database() { psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)"; }
      export APP__STORE__KIND=postgres DATABASE_URL="$pg/$database"
      ;;
    mongo)
      mongo="${BENCH_MONGO:-127.0.0.1:27017}"
      database="bench_$(date +%s)_$$"
      drop_database() {
        python3 -c "import pymongo, sys; pymongo.MongoClient(sys.argv[1]).drop_database(sys.argv[2])" \
          "mongodb://$mongo/?directConnection=true" "$database"
      }
      export APP__STORE__KIND=mongo MONGO_URI="mongodb://$mongo/$database?directConnection=true"
      ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
fi

cd "$root"
"${start[@]}" >"$server_log" 2>&1 &
pid=$!
stop() {
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if declare -F drop_database >/dev/null; then drop_database || true; fi
}
trap stop EXIT

for _ in $(seq 1 100); do
  if curl -fsS "$rest/health" >/dev/null 2>&1; then break; fi
  kill -0 "$pid" 2>/dev/null || { echo "server exited at start:" >&2; cat "$server_log" >&2; exit 1; }
  sleep 0.1
done

# The CPU the whole machine used over 3 s, in cores (the server, just started, is idle).
busy_cores() {
  local u1 n1 s1 q1 sq1 st1 u2 n2 s2 q2 sq2 st2
  read -r _ u1 n1 s1 _ _ q1 sq1 st1 _ </proc/stat
  sleep 3
  read -r _ u2 n2 s2 _ _ q2 sq2 st2 _ </proc/stat
  awk -v t=$(( (u2+n2+s2+q2+sq2+st2) - (u1+n1+s1+q1+sq1+st1) )) -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.2f", t / hz / 3 }'
}

# The generator and the server share the machine's cores: wait until nobody else uses
# more than 0.15 of a core (each result records what others used during the run anyway).
waited=0
while [ "$quiet_wait" -gt 0 ]; do
  busy=$(busy_cores)
  if awk -v x="$busy" 'BEGIN { exit !(x < 0.15) }'; then break; fi
  if [ "$waited" -ge "$quiet_wait" ]; then
    echo "[run.sh] machine still busy ($busy cores) after ${waited}s; running anyway" >&2
    break
  fi
  echo "[run.sh] machine busy ($busy cores); waiting" >&2
  sleep 7
  waited=$((waited + 10))
done

echo "[run.sh] $server (pid $pid): loadgen $scenario $*" >&2
status=0
"$loadgen" "$scenario" --pid "$pid" --url http://127.0.0.1:3001 --rest "$rest" "$@" || status=$?

if ! kill -0 "$pid" 2>/dev/null; then
  echo "[run.sh] THE SERVER EXITED DURING THE RUN; its log:" >&2
  tail -50 "$server_log" >&2
  status=1
fi
lines=$(grep -cv '^node peer listening' "$server_log" || true)
if [ "$lines" -gt 0 ]; then
  echo "[run.sh] the server logged $lines line(s) ($server_log); the last ones:" >&2
  tail -20 "$server_log" >&2
fi
exit "$status"
