#!/usr/bin/env bash
# The project's test command, as the README gives it and CI runs it: every test, with every
# feature. Extra arguments go to nextest (e.g. a filter: scripts/test.sh config).
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo nextest run --all-features "$@"
