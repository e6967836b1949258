#!/usr/bin/env bash
# Runs every benchmark and writes bench/results/<date>.md.
#   bench/run.sh [RUNS]      (default 5 runs per command; needs bench/setup.sh first)
# The criterion micro-benchmarks are separate: `cargo bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
status=0
bench/rewrite/run.py --runs "$runs" || status=1
bench/fleet/compare.py --runs "$runs" || status=1
bench/report.py ${NOTES:+--notes "$NOTES"}
exit "$status"
