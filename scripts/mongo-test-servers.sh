#!/usr/bin/env bash
# Starts the MongoDB wire servers the MongoDB tests use (SecantusDB, from PyPI), unless they
# already answer:
#   127.0.0.1:27017  a single-node replica set: the adapter appends in transactions
#   127.0.0.1:27018  --standalone: no transactions, the adapter's ordered writes
# Both keep their data in memory. Installs SecantusDB with pip when secantusd-py is missing
# (the outage test runs a private one too). Logs: ${TMPDIR:-/tmp}/secantusd-<port>.log.
set -euo pipefail

SECANTUS_VERSION="0.7.0b3"

if ! command -v secantusd-py >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check "SecantusDB==$SECANTUS_VERSION"
    if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
fi
command -v secantusd-py >/dev/null || { echo "secantusd-py is not on PATH after pip install" >&2; exit 1; }

answers() {
    python3 - "$1" <<'PY' >/dev/null 2>&1
import sys, pymongo
uri = f"mongodb://127.0.0.1:{sys.argv[1]}/?directConnection=true"
pymongo.MongoClient(uri, serverSelectionTimeoutMS=1000).admin.command("ping")
PY
}

start() {
    local port="$1"
    shift
    if answers "$port"; then
        echo "MongoDB wire server on $port: already running"
        return
    fi
    local log="${TMPDIR:-/tmp}/secantusd-$port.log"
    setsid nohup secantusd-py --host 127.0.0.1 --port "$port" --storage-path :memory: "$@" \
        >"$log" 2>&1 </dev/null &
    for _ in $(seq 1 120); do
        if answers "$port"; then
            echo "MongoDB wire server on $port: started ${*:-(replica set)}"
            return
        fi
        sleep 0.5
    done
    echo "secantusd-py on port $port did not answer within 60 s; its log:" >&2
    cat "$log" >&2
    exit 1
}

start 27017
start 27018 --standalone
