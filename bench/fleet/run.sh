#!/usr/bin/env bash
# Times `fleetmod run` over a generated fleet: the first run (import, clone,
# rewrite, push, open a pull request per changed repository) and the no-op
# rerun. Usage: bench/fleet/run.sh [COUNT] [JOBS]
set -euo pipefail
cd "$(dirname "$0")/../.."
count="${1:-200}"
jobs="${2:-}"
cargo build --release --locked --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 bench/fleet/generate.py "$work/fleet" "$count"
binary="$PWD/target/release/fleetmod"
args=(run "$work/fleet/migration.yaml" --workspace "$work/workspace")
if [ -n "$jobs" ]; then args+=(--jobs "$jobs"); fi

time_run() {
  local label="$1" start end
  start=$(date +%s.%N)
  "$binary" "${args[@]}" >"$work/$label.out" 2>"$work/$label.err"
  end=$(date +%s.%N)
  printf '%-8s %6.2fs  %s\n' "$label" "$(python3 -c "print($end - $start)")" "$(tail -1 "$work/$label.err")"
}

time_run first
time_run rerun
pulls=$("$binary" forge --root "$work/workspace/forge" list --state open | wc -l)
echo "open pull requests: $pulls (expected $((count - count / 5)))"
