#!/usr/bin/env bash
# Regenerates bench/layout/hot-code.ld, the linker script that gathers the
# code fleetmod runs into one place (bench/README.md, "Code layout").
#
# It builds the release binary, runs the benchmarked work under callgrind
# on every 20th file of each corpus (every rewrite task in dry-run mode,
# the starter rules also with --apply and scan --json, and the bundled
# example fleet twice), and writes every function that ran into the
# script. Rerun it after a toolchain or dependency update, or after a
# change to the code the benchmarks run; then rebuild. It takes about 7
# minutes on 2 cores. Needs valgrind (bench/setup.sh installs it) and the
# corpora.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
command -v valgrind >/dev/null || { echo "valgrind is missing: run bench/setup.sh" >&2; exit 1; }
corpus="${BENCH:-${XDG_CACHE_HOME:-$HOME/.cache}/fleetmod-bench}/corpus"
[ -d "$corpus/java" ] && [ -d "$corpus/python" ] || { echo "no corpora in $corpus: run bench/setup.sh" >&2; exit 1; }

cargo build --release --locked --quiet --bin fleetmod
binary="$root/target/release/fleetmod"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

for language in java python; do
  (cd "$corpus/$language" && find . -type f \( -name '*.java' -o -name '*.py' \) | sort | awk 'NR % 20 == 0') >"$scratch/$language.list"
  mkdir -p "$scratch/$language"
  tar -C "$corpus/$language" -cf - -T "$scratch/$language.list" | tar -C "$scratch/$language" -xf -
done

profile=0
profiled() {
  profile=$((profile + 1))
  echo "profile $profile: fleetmod $*" >&2
  if ! valgrind --tool=callgrind --demangle=no --callgrind-out-file="$scratch/callgrind.$profile" \
    "$binary" "$@" >/dev/null 2>"$scratch/valgrind.$profile"; then
    tail -20 "$scratch/valgrind.$profile" >&2
    exit 1
  fi
}

for rules in bench/rewrite/rules/*.yml; do
  language="${rules##*/}"
  language="${language%%-*}"
  profiled rewrite --jobs 2 --rules "$rules" "$scratch/$language"
done
for language in java python; do
  rules="rules/$language"
  profiled rewrite --jobs 2 --rules "$rules" "$scratch/$language"
  profiled scan --json --jobs 2 --rules "$rules" "$scratch/$language"
  cp -r "$scratch/$language" "$scratch/$language-copy"
  profiled rewrite --jobs 2 --apply --rules "$rules" "$scratch/$language-copy"
done
cp -r examples/orders-v2 "$scratch/fleet"
(cd "$scratch/fleet" && profiled run migration.yaml && profiled run migration.yaml && profiled status migration.yaml)

# Written aside and moved into place only when complete: build.rs passes
# whatever is there to the linker.
bench/layout/order.py "$binary" "$scratch"/callgrind.* >"$scratch/hot-code.ld"
grep -q '^INSERT BEFORE .text;$' "$scratch/hot-code.ld"
mv "$scratch/hot-code.ld" bench/layout/hot-code.ld
head -3 bench/layout/hot-code.ld | tail -1
echo "wrote bench/layout/hot-code.ld; rebuild (cargo build --release) to use it" >&2
