#!/usr/bin/env python3
"""Rewrite benchmark: fleetmod against ast-grep on the same corpora, rules
and thread counts (see bench/README.md).

For every task it first checks that both tools agree: the same number of
matches (`fleetmod scan --json` against `ast-grep scan --json=stream`) and,
after applying the fixes to two fresh copies, the same set of changed
files. A disagreement fails the benchmark (exit 1). Then one hyperfine run
per task and mode times both tools:

- `dry-run`: fleetmod prints a diff (`rewrite`), ast-grep its fix report
  (`scan`); output goes to /dev/null.
- `apply`: both write the files, each run on a fresh copy of the corpus
  (hyperfine `--prepare`, not timed: the corpus copied back over one
  copy in place, then `sync`).

Peak RSS is the median of N dry runs of each tool under `/usr/bin/time -v`,
the tools taking turns. The no-literal tasks' dry-run hyperfine also times
the bare tree-sitter parse of every file and the parse plus a walk over
every node (`cargo run --release --example bare-parse [-- --walk]`), so
that fleetmod's share of the parse throughput comes from the same run.

Usage: bench/rewrite/run.py [--runs N] [--threads N] [--task NAME]... [--out FILE.json]
"""
import argparse
import filecmp
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "bench" / "rewrite" / "rules"
AST_GREP = ROOT / "bench" / ".tools" / "node_modules" / ".bin" / "ast-grep"
FLEETMOD = ROOT / "target" / "release" / "fleetmod"
BARE_PARSE = ROOT / "target" / "release" / "examples" / "bare-parse"
CORPUS = Path(os.environ.get("BENCH", Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "fleetmod-bench")) / "corpus"

TASKS = [
    # name, language, rule file (or a folder of starter rules), kind
    ("java-rare", "java", "java-rare.yml", "rare"),
    ("java-common", "java", "java-common.yml", "common"),
    ("java-no-literal", "java", "java-no-literal.yml", "no-literal"),
    ("java-starter-rules", "java", ROOT / "rules" / "java", "many"),
    ("python-rare", "python", "python-rare.yml", "rare"),
    ("python-common", "python", "python-common.yml", "common"),
    ("python-no-literal", "python", "python-no-literal.yml", "no-literal"),
    ("python-starter-rules", "python", ROOT / "rules" / "python", "many"),
]


# The exit codes that mean a run worked; anything not named must exit 0.
# ast-grep's scan exits with 1 when it reports something.
SUCCESS = {"ast-grep": (0, 1)}


def run(command, **options):
    return subprocess.run(command, check=True, capture_output=True, text=True, **options)


def rule_file(spec, scratch):
    """One rule file: the task's own, or the starter rules joined with ---
    (without fleetmod's `applicability`, which ast-grep does not know)."""
    if isinstance(spec, str):
        return RULES / spec
    files = sorted(path for path in spec.glob("*.yml") if not path.name.endswith("-test.yml"))
    text = "\n---\n".join(path.read_text().strip() for path in files) + "\n"
    text = "\n".join(line for line in text.splitlines() if not line.startswith("applicability:")) + "\n"
    joined = scratch / f"{spec.name}-rules.yml"
    joined.write_text(text)
    return joined


def rule_count(path):
    return sum(1 for line in path.read_text().splitlines() if line.startswith("id:"))


def fleetmod_command(mode, rules, threads, target):
    command = [str(FLEETMOD), "rewrite", "--jobs", str(threads), "--rules", str(rules)]
    if mode == "apply":
        command.append("--apply")
    return command + [str(target)]


def ast_grep_command(mode, rules, threads, target):
    command = [str(AST_GREP), "scan", "--threads", str(threads), "--rule", str(rules)]
    if mode == "apply":
        command.append("--update-all")
    return command + [str(target)]


def count_matches(rules, threads, corpus):
    fleetmod = run([str(FLEETMOD), "scan", "--json", "--jobs", str(threads), "--rules", str(rules), str(corpus)])
    ast_grep = subprocess.run(
        [str(AST_GREP), "scan", "--threads", str(threads), "--json=stream", "--rule", str(rules), str(corpus)],
        capture_output=True, text=True)
    if ast_grep.returncode not in SUCCESS["ast-grep"]:
        sys.exit(f"ast-grep failed: {ast_grep.stderr}")
    return len(fleetmod.stdout.splitlines()), len(ast_grep.stdout.splitlines())


def changed_files(pristine, copy):
    changed = set()
    for directory, _, files in os.walk(copy):
        for name in files:
            path = Path(directory) / name
            relative = path.relative_to(copy)
            if not filecmp.cmp(path, pristine / relative, shallow=False):
                changed.add(str(relative))
    return changed


def applied_changes(command_for, rules, threads, corpus, scratch):
    copy = scratch / "applied"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(corpus, copy)
    subprocess.run(command_for("apply", rules, threads, copy), check=False, capture_output=True)
    changed = changed_files(corpus, copy)
    shutil.rmtree(copy)
    return changed


def peak_rss_kib(tool, command):
    result = subprocess.run(["/usr/bin/time", "-v", *command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    if not found or result.returncode not in SUCCESS.get(tool, (0,)):
        sys.exit(f"no peak RSS for {tool} (exit {result.returncode}):\n{result.stderr[-2000:]}")
    return int(found.group(1))


def peak_rss(commands, runs):
    """Each tool's median peak RSS over `runs` runs, the tools taking turns
    (one run each varies by a few MiB on this kind of machine)."""
    samples = {tool: [] for tool in commands}
    for _ in range(runs):
        for tool, command in commands.items():
            samples[tool].append(peak_rss_kib(tool, command))
    return {tool: statistics.median_low(values) for tool, values in samples.items()}, samples


def hyperfine(task, mode, rules, threads, corpus, runs, scratch, floors=()):
    """Times both tools in one hyperfine run, with `floors` (name, command)
    as further commands of the same run: the parse floor is compared with
    fleetmod under the same conditions as ast-grep is."""
    export = scratch / f"{task}-{mode}.json"
    work = scratch / "work"
    if mode == "apply":
        target = work
        # One copy, made and flushed before timing; each run then starts
        # from the corpus copied back over it in place, flushed too, so that
        # the kernel's write-back of the copy is not part of the timed run
        # (fleetmod flushes the files it replaces to disk, a syncfs per batch,
        # which would wait for the copy's dirty data too).
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(corpus, work)
        subprocess.run(["sync"], check=True)
        prepare = ["--prepare", f"cp -r '{corpus}/.' '{work}/' && sync"]
    else:
        target = corpus
        prepare = []
    quote = lambda command: " ".join(f"'{part}'" for part in command)
    command = [
        "hyperfine", "--style", "basic", "--runs", str(runs), "--warmup", "1" if mode == "dry-run" else "0",
        "--ignore-failure", "--output", "null", "--export-json", str(export), *prepare,
        "--command-name", "fleetmod", quote(fleetmod_command(mode, rules, threads, target)),
        "--command-name", "ast-grep", quote(ast_grep_command(mode, rules, threads, target)),
    ]
    for name, floor in floors:
        command += ["--command-name", name, quote(floor)]
    subprocess.run(command, check=True, stdout=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)
    results = {result["command"]: result for result in json.loads(export.read_text())["results"]}
    # --ignore-failure is for ast-grep; fleetmod and the floors must
    # succeed every run.
    for name, result in results.items():
        if any(code not in SUCCESS.get(name, (0,)) for code in result.get("exit_codes", [])):
            sys.exit(f"{name} failed in {task} ({mode}): exit codes {result['exit_codes']}")
    return {
        tool: {"mean": results[tool]["mean"], "stddev": results[tool]["stddev"], "min": results[tool]["min"], "times": results[tool]["times"]}
        for tool in ("fleetmod", "ast-grep", *(name for name, _ in floors))
    }


def floor_commands(threads, corpus):
    """The parse floor and the parse-plus-walk floor (bench/README.md)."""
    parse = [str(BARE_PARSE), "--jobs", str(threads), str(corpus)]
    return [("bare-parse", parse), ("bare-parse-walk", [*parse[:-1], "--walk", parse[-1]])]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--task", action="append", help="only these tasks (repeatable)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "tmp" / "rewrite.json")
    arguments = parser.parse_args()
    for tool, hint in ((AST_GREP, "bench/setup.sh"), (CORPUS / "java", "bench/setup.sh")):
        if not tool.exists():
            sys.exit(f"{tool} is missing: run {hint}")
    # Two builds: an example needs the dev-dependencies, whose features would
    # change the dependencies' builds and so the benchmarked binary; built on
    # its own, fleetmod is the binary `cargo run --release` gives users (and
    # the one bench/layout/hot-code.ld was profiled on).
    for target in (["--bin", "fleetmod"], ["--example", "bare-parse"]):
        subprocess.run(["cargo", "build", "--release", "--locked", "--quiet", *target], check=True, cwd=ROOT)
    results = {"threads": arguments.threads, "runs": arguments.runs, "tasks": [], "bare_parse": {},
               "ast_grep_version": run([str(AST_GREP), "--version"]).stdout.strip(),
               "fleetmod_version": run([str(FLEETMOD), "--version"]).stdout.strip()}
    failed = False
    with tempfile.TemporaryDirectory(prefix="fleetmod-bench-") as scratch_name:
        scratch = Path(scratch_name)
        for name, language, spec, kind in TASKS:
            if arguments.task and name not in arguments.task:
                continue
            corpus = CORPUS / language
            rules = rule_file(spec, scratch)
            print(f"== {name}", file=sys.stderr)
            fleetmod_matches, ast_grep_matches = count_matches(rules, arguments.threads, corpus)
            fleetmod_changed = applied_changes(fleetmod_command, rules, arguments.threads, corpus, scratch)
            ast_grep_changed = applied_changes(ast_grep_command, rules, arguments.threads, corpus, scratch)
            agree = fleetmod_matches == ast_grep_matches and fleetmod_changed == ast_grep_changed
            if not agree:
                failed = True
                print(f"MISMATCH in {name}: matches {fleetmod_matches} (fleetmod) vs {ast_grep_matches} (ast-grep); "
                      f"changed files {len(fleetmod_changed)} vs {len(ast_grep_changed)}", file=sys.stderr)
                for path in sorted(fleetmod_changed ^ ast_grep_changed)[:20]:
                    side = "fleetmod only" if path in fleetmod_changed else "ast-grep only"
                    print(f"  {side}: {path}", file=sys.stderr)
            task = {
                "name": name, "language": language, "kind": kind, "rules": rule_count(rules),
                "matches": {"fleetmod": fleetmod_matches, "ast-grep": ast_grep_matches},
                "changed_files": {"fleetmod": len(fleetmod_changed), "ast-grep": len(ast_grep_changed)},
                "agree": agree,
            }
            task["peak_rss_kib"], task["peak_rss_samples_kib"] = peak_rss({
                "fleetmod": fleetmod_command("dry-run", rules, arguments.threads, corpus),
                "ast-grep": ast_grep_command("dry-run", rules, arguments.threads, corpus),
            }, arguments.runs)
            for mode in ("dry-run", "apply"):
                floors = floor_commands(arguments.threads, corpus) if kind == "no-literal" and mode == "dry-run" else ()
                task[mode] = hyperfine(name, mode, rules, arguments.threads, corpus, arguments.runs, scratch, floors)
                for floor, _ in floors:
                    results["bare_parse"].setdefault(language, {})[floor] = task[mode].pop(floor)
            results["tasks"].append(task)
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {arguments.out}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
