#!/usr/bin/env bash
# Installs what the benchmarks need, from the package registries only, and
# builds the corpora. Idempotent; rerun it any time.
#   hyperfine, ripgrep, valgrind     Debian packages
#   ast-grep (@ast-grep/cli)         npm, into bench/.tools/node_modules
#   all-repos                        PyPI, into the virtualenv bench/.tools/venv
#   corpora                          ../shared/bench/corpus.sh (Java: OpenJDK 17
#                                    class library; Python: Django + CPython stdlib)
# Versions are pinned below so that results compare across runs; override
# them with AST_GREP_VERSION and ALL_REPOS_VERSION.
set -euo pipefail
cd "$(dirname "$0")"
AST_GREP_VERSION=${AST_GREP_VERSION:-0.51.1}
ALL_REPOS_VERSION=${ALL_REPOS_VERSION:-1.33.0}
tools="$PWD/.tools"
mkdir -p "$tools"

missing=()
for command in hyperfine rg valgrind /usr/bin/time; do
  command -v "$command" >/dev/null 2>&1 || missing+=("$command")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    hyperfine ripgrep valgrind time
fi

if [ "$("$tools/node_modules/.bin/ast-grep" --version 2>/dev/null)" != "ast-grep $AST_GREP_VERSION" ]; then
  (cd "$tools" && npm install --no-save --no-audit --no-fund "@ast-grep/cli@$AST_GREP_VERSION")
fi
"$tools/node_modules/.bin/ast-grep" --version

if ! "$tools/venv/bin/pip" show all-repos 2>/dev/null | grep -qx "Version: $ALL_REPOS_VERSION"; then
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet "all-repos==$ALL_REPOS_VERSION"
fi
echo "all-repos $ALL_REPOS_VERSION"

corpus="${BENCH:-${XDG_CACHE_HOME:-$HOME/.cache}/fleetmod-bench}/corpus"
if [ ! -d "$corpus/java" ] || [ ! -d "$corpus/python" ]; then
  script="$(cd .. && pwd)/../shared/bench/corpus.sh"
  bash "$script"
fi
echo "corpora in $corpus"
