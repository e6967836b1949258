#!/usr/bin/env python3
"""Differential check: fleetmod scan against ast-grep scan on the same rules.

Runs both tools on the same rule file(s) and paths, and compares the matched
node ranges per rule. Exits 1 when they differ. ast-grep comes from npm
(`@ast-grep/cli`) or PyPI (`ast-grep-cli`); pass its path with --ast-grep.

    tests/compat/compare.py --rules RULES.yml [--rules MORE.yml] PATH...

With --write-expected DIR it instead records ast-grep's matches for every
fixture folder under DIR (fixtures/compat/<case>/{rule.yml,source files})
into <case>/expected.json, which `cargo test` compares fleetmod against.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path


def run(command, cwd=None):
    started = time.monotonic()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    return result, time.monotonic() - started


def ast_grep_matches(ast_grep, rule_text, paths, cwd=None):
    command = [ast_grep, "scan", "--inline-rules", rule_text, "--json=stream", *paths]
    result, seconds = run(command, cwd)
    if result.returncode not in (0, 1):
        sys.exit(f"ast-grep failed ({result.returncode}): {result.stderr.strip()}")
    found = set()
    for line in result.stdout.splitlines():
        item = json.loads(line)
        offset = item["range"]["byteOffset"]
        found.add((os.path.normpath(item["file"]), item["ruleId"], offset["start"], offset["end"]))
    return found, seconds


def fleetmod_matches(fleetmod, rule_files, paths, cwd=None):
    command = [fleetmod, "scan", "--json"]
    for rule in rule_files:
        command += ["--rules", rule]
    result, seconds = run(command + list(paths), cwd)
    if result.returncode not in (0, 1):
        sys.exit(f"fleetmod failed ({result.returncode}): {result.stderr.strip()}")
    found = set()
    for line in result.stdout.splitlines():
        item = json.loads(line)
        found.add((os.path.normpath(item["path"]), item["rule_id"], item["range"]["bytes"]["start"], item["range"]["bytes"]["end"]))
    return found, seconds


def snippet(path, start, end, cwd=None):
    try:
        data = Path(cwd or ".", path).read_bytes()[start:end].decode("utf-8", "replace")
    except OSError:
        return "?"
    data = data.replace("\n", "\\n")
    return data if len(data) < 80 else data[:77] + "..."


def compare(ast_grep, fleetmod, rule_files, paths, cwd=None, show=5):
    rule_text = "\n---\n".join(Path(cwd or ".", rule).read_text() for rule in rule_files)
    expected, ast_grep_seconds = ast_grep_matches(ast_grep, rule_text, paths, cwd)
    actual, fleetmod_seconds = fleetmod_matches(fleetmod, rule_files, paths, cwd)
    per_rule_expected = Counter(rule for _, rule, _, _ in expected)
    per_rule_actual = Counter(rule for _, rule, _, _ in actual)
    print(f"ast-grep: {len(expected)} matches in {ast_grep_seconds:.2f}s; "
          f"fleetmod: {len(actual)} matches in {fleetmod_seconds:.2f}s")
    for rule in sorted(set(per_rule_expected) | set(per_rule_actual)):
        marker = "" if per_rule_expected[rule] == per_rule_actual[rule] else "   <-- differs"
        print(f"  {rule}: ast-grep {per_rule_expected[rule]}, fleetmod {per_rule_actual[rule]}{marker}")
    missing = sorted(expected - actual)
    extra = sorted(actual - expected)
    for label, items in (("only ast-grep", missing), ("only fleetmod", extra)):
        for path, rule, start, end in items[:show]:
            print(f"  {label}: {path}:{start}-{end} {rule}: {snippet(path, start, end, cwd)}")
        if len(items) > show:
            print(f"  {label}: ... {len(items) - show} more")
    return not missing and not extra


def write_expected(ast_grep, root):
    for case in sorted(Path(root).iterdir()):
        rule = case / "rule.yml"
        if not rule.is_file():
            continue
        sources = sorted(str(p.relative_to(case)) for p in case.iterdir()
                         if p.is_file() and p.suffix in {".py", ".pyi", ".java"})
        found, _ = ast_grep_matches(ast_grep, rule.read_text(), sources, cwd=case)
        records = [{"path": path, "rule": rule_id, "start": start, "end": end}
                   for path, rule_id, start, end in sorted(found)]
        (case / "expected.json").write_text(json.dumps(records, indent=1) + "\n")
        print(f"{case.name}: {len(records)} matches")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ast-grep", default=os.environ.get("AST_GREP", "ast-grep"))
    parser.add_argument("--fleetmod", default=os.environ.get("FLEETMOD", "target/release/fleetmod"))
    parser.add_argument("--rules", action="append", default=[])
    parser.add_argument("--write-expected", metavar="DIR")
    parser.add_argument("--show", type=int, default=5)
    parser.add_argument("paths", nargs="*", default=["."])
    options = parser.parse_args()
    if options.write_expected:
        write_expected(options.ast_grep, options.write_expected)
        return
    if not options.rules:
        parser.error("--rules is required")
    same = compare(options.ast_grep, os.path.abspath(options.fleetmod), options.rules, options.paths, show=options.show)
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
