#!/usr/bin/env python3
"""Writes bench/results/<date>.md from the JSON of the last benchmark runs
(bench/results/tmp/rewrite.json and fleet.json), with the machine it ran on
and each target met or missed.

Usage: bench/report.py [--date YYYY-MM-DD] [--rewrite FILE] [--fleet FILE]
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TMP = ROOT / "bench" / "results" / "tmp"

TARGETS = {"rare": 0.05, "common": 0.3, "no-literal": 1.0, "many": 0.5}
KIND_NAMES = {"rare": "rare match", "common": "common match", "no-literal": "no literal (parses everything)",
              "many": "starter rules at once"}


def command_output(command):
    try:
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine():
    model = next((line.split(":", 1)[1].strip() for line in command_output(["lscpu"]).splitlines()
                  if line.startswith("Model name")), platform.processor() or "unknown")
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "0")
    return [
        f"CPU: {model}, {os.cpu_count()} logical CPUs",
        f"Memory: {int(memory) / 1024 / 1024:.0f} GiB",
        f"Kernel: {platform.release()}",
        f"Rust: {command_output(['rustc', '--version'])}",
        f"hyperfine: {command_output(['hyperfine', '--version'])}",
        "Code layout (bench/README.md): " + command_output(
            [str(ROOT / "bench" / "layout" / "order.py"), "--check",
             str(ROOT / "target" / "release" / "fleetmod"), str(ROOT / "bench" / "layout" / "hot-code.ld")]),
    ]


def ratio(numerator, denominator):
    return numerator / denominator if denominator else float("inf")


def verdict(value, target):
    return "met" if value <= target else "**missed**"


def rewrite_section(data):
    lines = [
        f"## Rewrite: fleetmod against {data['ast_grep_version']}",
        "",
        f"{data['threads']} threads for both tools; hyperfine, {data['runs']} runs per command (dry run after one "
        "warm-up; apply on a fresh copy of the corpus each run). Ratio = fleetmod's mean time / ast-grep's, "
        "measured in the same hyperfine run. Matches and changed files are checked equal before timing.",
        "",
        "| task | rules | matches | files changed | dry run: fleetmod / ast-grep | ratio | apply: fleetmod / ast-grep | ratio | target | peak RSS fleetmod / ast-grep |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    verdicts = []
    for task in data["tasks"]:
        dry, apply = task["dry-run"], task["apply"]
        dry_ratio = ratio(dry["fleetmod"]["mean"], dry["ast-grep"]["mean"])
        apply_ratio = ratio(apply["fleetmod"]["mean"], apply["ast-grep"]["mean"])
        target = TARGETS[task["kind"]]
        rss = task["peak_rss_kib"]
        agree = "" if task["agree"] else " (MISMATCH)"
        lines.append(
            f"| {task['name']} | {task['rules']} | {task['matches']['fleetmod']}{agree} | {task['changed_files']['fleetmod']} "
            f"| {dry['fleetmod']['mean']:.2f} s / {dry['ast-grep']['mean']:.2f} s | {dry_ratio:.3f}× "
            f"| {apply['fleetmod']['mean']:.2f} s / {apply['ast-grep']['mean']:.2f} s | {apply_ratio:.3f}× "
            f"| ≤ {target}×: {verdict(max(dry_ratio, apply_ratio), target)} "
            f"| {rss['fleetmod'] / 1024:.1f} / {rss['ast-grep'] / 1024:.1f} MiB: {verdict(rss['fleetmod'], rss['ast-grep'])} |")
        verdicts.append((task["name"], KIND_NAMES[task["kind"]], dry_ratio, apply_ratio, target,
                         rss["fleetmod"], rss["ast-grep"]))
    lines += ["", "Parse floor against fleetmod's no-literal dry run, in the same hyperfine run: the bare tree-sitter "
              "parse of every file (`--example bare-parse`, same threads), and the parse plus a tree-cursor walk "
              "over every node (`--walk`), the least a rule that names only a node kind must do:", ""]
    for task in data["tasks"]:
        floor = data["bare_parse"].get(task["language"])
        if task["kind"] != "no-literal" or not floor:
            continue
        fleetmod = task["dry-run"]["fleetmod"]["mean"]
        parse, walk = floor["bare-parse"]["mean"], floor["bare-parse-walk"]["mean"]
        share = ratio(parse, fleetmod)
        lines.append(f"- {task['language']}: bare parse {parse:.2f} s, parse + walk {walk:.2f} s ({ratio(parse, walk):.0%}), "
                     f"fleetmod {fleetmod:.2f} s: {share:.0%} of bare-parse throughput "
                     f"(target ≥ 80%: {'met' if share >= 0.8 else '**missed**'})")
    lines += ["", "Peak RSS is the median of " + str(data["runs"]) + " dry runs of each tool, taking turns; all samples (MiB):", ""]
    for task in data["tasks"]:
        samples = task.get("peak_rss_samples_kib")
        if samples:
            lines.append(f"- {task['name']}: " + "; ".join(
                f"{tool} " + ", ".join(f"{value / 1024:.1f}" for value in values) for tool, values in samples.items()))
    return lines, verdicts


def fleet_section(data):
    first = data["first"]
    first_ratio = ratio(first["fleetmod"]["mean"], first["all-repos"]["mean"])
    rerun_share = ratio(data["rerun"]["mean"], first["fleetmod"]["mean"])
    return [
        f"## Fleet: fleetmod run against all-repos {data['all_repos_version']}",
        "",
        f"{data['count']} repositories split from the Python corpus, each with a bare remote; {data['jobs']} jobs for "
        f"both; {data['runs']} runs each from fresh remotes. {data['changed']} repositories change, "
        f"{data['pull_requests']} pull requests opened; fleetmod's branches hold exactly the trees all-repos pushed: "
        f"{'yes' if data['agree'] else '**no**'}.",
        "",
        "| run | fleetmod | all-repos (clone + sed, merge_to_master) | ratio | target |",
        "|---|---|---|---|---|",
        f"| first run | {first['fleetmod']['mean']:.2f} s ± {first['fleetmod']['stddev']:.2f} | "
        f"{first['all-repos']['mean']:.2f} s ± {first['all-repos']['stddev']:.2f} | {first_ratio:.3f}× | ≤ 0.3×: {verdict(first_ratio, 0.3)} |",
        f"| no-op rerun | {data['rerun']['mean']:.3f} s ± {data['rerun']['stddev']:.3f} | | {rerun_share:.1%} of the first run | ≤ 5%: {verdict(rerun_share, 0.05)} |",
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", default=datetime.date.today().isoformat())
    parser.add_argument("--rewrite", type=Path, default=TMP / "rewrite.json")
    parser.add_argument("--fleet", type=Path, default=TMP / "fleet.json")
    parser.add_argument("--notes", type=Path, help="Markdown appended as is (analysis of the run)")
    arguments = parser.parse_args()
    lines = [f"# Benchmarks, {arguments.date}", "", "Machine:", ""]
    lines += [f"- {item}" for item in machine()]
    lines += ["", "Reproduce: `bench/setup.sh && bench/run.sh` (see bench/README.md).", ""]
    if arguments.rewrite.exists():
        section, _ = rewrite_section(json.loads(arguments.rewrite.read_text()))
        lines += section + [""]
    if arguments.fleet.exists():
        lines += fleet_section(json.loads(arguments.fleet.read_text())) + [""]
    if arguments.notes and arguments.notes.exists():
        lines += [arguments.notes.read_text().rstrip(), ""]
    out = ROOT / "bench" / "results" / f"{arguments.date}.md"
    out.write_text("\n".join(lines))
    print(out)


if __name__ == "__main__":
    main()
