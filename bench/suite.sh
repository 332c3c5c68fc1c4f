#!/usr/bin/env bash
# Runs every scenario of docs/PERFORMANCE.md twice, each against a fresh server, and keeps
# the JSON results in $OUT (default /tmp/switchboard-bench-results).
#
#   bench/suite.sh            # the whole suite (about 10 minutes when the machine is idle)
#   OUT=/tmp/r bench/suite.sh
#
# Before each run it waits (up to QUIET_WAIT seconds, default 600) for the machine to be
# quiet (other processes using under 0.15 of a core over 3 s), since the load generator and
# the server share the machine's cores. Each result records the CPU others used meanwhile
# (window.otherCpuS).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${OUT:-/tmp/switchboard-bench-results}"
quiet_wait="${QUIET_WAIT:-600}"
mkdir -p "$out"

busy_cores() {
  local a b
  read -r _ u1 n1 s1 i1 w1 q1 sq1 st1 _ < /proc/stat
  sleep 3
  read -r _ u2 n2 s2 i2 w2 q2 sq2 st2 _ < /proc/stat
  a=$(( (u2+n2+s2+q2+sq2+st2) - (u1+n1+s1+q1+sq1+st1) ))
  b=$(getconf CLK_TCK)
  awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b / 3 }'
}

wait_quiet() {
  local waited=0 busy
  while :; do
    busy=$(busy_cores)
    if awk -v x="$busy" 'BEGIN { exit !(x < 0.15) }'; then
      echo "[suite] machine quiet (${busy} cores busy)" >&2
      return
    fi
    if [ "$waited" -ge "$quiet_wait" ]; then
      echo "[suite] machine still busy (${busy} cores) after ${waited}s; running anyway" >&2
      return
    fi
    echo "[suite] machine busy (${busy} cores); waiting" >&2
    sleep 10
    waited=$((waited + 13))
  done
}

run() {
  local name="$1"; shift
  wait_quiet
  echo "[suite] $name: bench/run.sh $*" >&2
  "$root/bench/run.sh" "$@" --label "$name" --out "$out/$name.json" >/dev/null
}

for i in 1 2; do
  run "chat-memory-$i"       memory chat --pairs 100 --messages 20000 --rate 10
  run "chat-sqlite-$i"       sqlite chat --pairs 100 --messages 20000 --rate 10
  run "chat-fast-memory-$i"  memory chat --pairs 100 --messages 40000 --rate 40
  run "chat-fast-sqlite-$i"  sqlite chat --pairs 100 --messages 40000 --rate 40
  run "fanout-memory-$i"     memory fanout --members 1000 --messages 100 --rate 10 --workers 2
  run "fanout-sqlite-$i"     sqlite fanout --members 1000 --messages 100 --rate 10 --workers 2
  run "connections-memory-$i" memory connections --clients 2000 --concurrency 50 --rounds 2
  run "connections-sqlite-$i" sqlite connections --clients 2000 --concurrency 50 --rounds 2
done
node "$root/bench/summarize.mjs" "$out"
