#!/usr/bin/env bash
# Starts a fresh switchboard server, runs one bench scenario against it, stops the server.
#
#   bench/run.sh <memory|sqlite|postgres|mongo> <chat|fanout|connections> [bench.mjs options...]
#
# e.g. bench/run.sh memory chat --pairs 100 --messages 20000 --rate 10 --out /tmp/chat.json
#
# Environment: SWITCHBOARD_BIN (default target/release/switchboard), BENCH_DB (SQLite file,
# default /tmp/bench.db, deleted before the start), BENCH_SERVER_LOG (default
# /tmp/switchboard-bench.log), BENCH_POSTGRES (server URL without a database, default
# postgres://postgres@127.0.0.1:5432), BENCH_MONGO (default 127.0.0.1:27017). postgres and
# mongo runs get a fresh database, dropped afterwards. Run from anywhere; paths are relative
# to the repository root.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage="usage: bench/run.sh memory|sqlite|postgres|mongo chat|fanout|connections [options]"
store="${1:?$usage}"
scenario="${2:?$usage}"
shift 2

bin="${SWITCHBOARD_BIN:-$root/target/release/switchboard}"
db="${BENCH_DB:-/tmp/bench.db}"
server_log="${BENCH_SERVER_LOG:-/tmp/switchboard-bench.log}"
[ -x "$bin" ] || { echo "no server binary at $bin: run cargo build --release" >&2; exit 2; }
[ -d "$root/bench/node_modules/socket.io-client" ] || { echo "run npm ci in $root/bench first" >&2; exit 2; }

for port in 3000 3001 3002; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is already in use: stop whatever listens there first" >&2
    exit 2
  fi
done

export JWT_SECRET=bench-secret
export APP__AUTH__SERVICE_KEY=bench-key
export APP__LIMITS__EVENTS_PER_SECOND=0
export APP__LOG__FILTER=warn
export APP__BLOBS__DIR=/tmp/switchboard-bench-uploads
case "$store" in
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

cd "$root"
"$bin" serve >"$server_log" 2>&1 &
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
  if curl -fsS http://127.0.0.1:3000/health >/dev/null 2>&1; then break; fi
  kill -0 "$pid" 2>/dev/null || { echo "server exited at start:" >&2; cat "$server_log" >&2; exit 1; }
  sleep 0.1
done

echo "[run.sh] server pid $pid, store $store, scenario $scenario" >&2
status=0
node "$root/bench/bench.mjs" "$scenario" --pid "$pid" "$@" || status=$?

if ! kill -0 "$pid" 2>/dev/null; then
  echo "[run.sh] THE SERVER EXITED DURING THE RUN; its log:" >&2
  tail -50 "$server_log" >&2
  status=1
fi
lines=$(wc -l <"$server_log")
if [ "$lines" -gt 0 ]; then
  echo "[run.sh] the server logged $lines line(s) at warn or above ($server_log); the last ones:" >&2
  tail -20 "$server_log" >&2
fi
exit "$status"
