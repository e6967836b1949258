#!/usr/bin/env python3
"""Fleet benchmark: `fleetmod run` against all-repos on the same fleet.

The fleet is the Python corpus split into COUNT repositories with bare
remotes (corpus_fleet.py). Both tools make the same literal change,
`sales.orders` -> `sales_v2.orders`, with the same number of jobs:

- fleetmod: `fleetmod run` end to end: clone (a cached mirror), rewrite,
  commit, push a branch and open a pull request in the local forge.
- all-repos: `all-repos-clone` then `all-repos-sed` with the
  `merge_to_master` push (clone, sed, commit, merge, push).

Every timed run starts from a fresh copy of the remotes and no workspace
(hyperfine `--prepare`, not timed). Before timing, one run of each is
checked: the same repositories change, and for each one fleetmod's branch
holds exactly the tree all-repos pushed to master; a difference fails the
benchmark (exit 1). Then fleetmod's no-op rerun (everything up to date) is
timed on its own.

Usage: bench/fleet/compare.py [--count 200] [--jobs 2] [--runs 5] [--out FILE.json]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLEETMOD = ROOT / "target" / "release" / "fleetmod"
VENV = ROOT / "bench" / ".tools" / "venv" / "bin"
CORPUS = Path(os.environ.get("BENCH", Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "fleetmod-bench")) / "corpus"
EXPRESSION = r"s/sales\.orders/sales_v2.orders/g"
BRANCH = "fleetmod/orders-v2"
IDENTITY = {
    "GIT_AUTHOR_NAME": "all-repos", "GIT_AUTHOR_EMAIL": "all-repos@localhost",
    "GIT_COMMITTER_NAME": "all-repos", "GIT_COMMITTER_EMAIL": "all-repos@localhost",
}


def quote(parts):
    return " ".join(f"'{part}'" for part in parts)


def git(repository, *arguments):
    result = subprocess.run(["git", "-C", str(repository), *arguments], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else None


class Fleet:
    def __init__(self, folder, jobs):
        self.folder = folder
        self.jobs = jobs
        self.remotes = folder / "remotes"
        self.forge = folder / "forge"
        self.workspace = folder / "workspace"
        self.all_repos_remotes = folder / "all-repos-remotes"
        self.all_repos_output = folder / "all-repos-output"
        self.config = folder / "all-repos.json"
        names = sorted(path.name[:-4] for path in (self.remotes / "acme").iterdir())
        self.repos = [f"acme/{name}" for name in names]
        (folder / "repos.json").write_text(json.dumps(
            {repo: str(self.all_repos_remotes / f"{repo}.git") for repo in self.repos}))
        self.config.write_text(json.dumps({
            "output_dir": str(self.all_repos_output),
            "source": "all_repos.source.json_file",
            "source_settings": {"filename": str(folder / "repos.json")},
            "push": "all_repos.push.merge_to_master",
            "push_settings": {},
        }))
        self.config.chmod(0o600)  # all-repos refuses a config others can read

    def fleetmod_prepare(self):
        return f"rm -rf '{self.forge}' '{self.workspace}' && cp -r '{self.remotes}' '{self.forge}'"

    def fleetmod(self):
        return quote([FLEETMOD, "run", self.folder / "migration.yaml", "--workspace", self.workspace,
                      "--jobs", self.jobs, "--quiet"])

    def all_repos_prepare(self):
        return (f"rm -rf '{self.all_repos_remotes}' '{self.all_repos_output}' && "
                f"cp -r '{self.remotes}' '{self.all_repos_remotes}'")

    def all_repos(self):
        clone = quote([VENV / "all-repos-clone", "-C", self.config, "--jobs", self.jobs])
        sed = quote([VENV / "all-repos-sed", "-C", self.config, "--jobs", self.jobs,
                     "--commit-msg", "Move sales.orders to sales_v2.orders", EXPRESSION, "*.py"])
        return f"{clone} && {sed}"

    def shell(self, command):
        subprocess.run(command, shell=True, check=True, env={**os.environ, **IDENTITY},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def check(self):
        """Runs both once and compares what they pushed, repository by repository."""
        self.shell(self.fleetmod_prepare())
        self.shell(self.fleetmod())
        self.shell(self.all_repos_prepare())
        self.shell(self.all_repos())
        problems, changed = [], 0
        for repo in self.repos:
            original = git(self.remotes / f"{repo}.git", "rev-parse", "master^{tree}")
            branch = git(self.forge / f"{repo}.git", "rev-parse", "--verify", "--quiet", BRANCH + "^{tree}")
            master = git(self.all_repos_remotes / f"{repo}.git", "rev-parse", "master^{tree}")
            all_repos_changed = master != original
            if (branch is not None) != all_repos_changed:
                problems.append(f"{repo}: fleetmod {'changed' if branch else 'left'} it, all-repos {'changed' if all_repos_changed else 'left'} it")
            elif branch is not None and branch != master:
                problems.append(f"{repo}: fleetmod's branch and all-repos' master hold different trees")
            changed += branch is not None
        listing = subprocess.run([FLEETMOD, "forge", "--root", self.forge, "list", "--state", "open"],
                                 capture_output=True, text=True, check=True).stdout
        pulls = len(listing.splitlines())
        if pulls != changed:
            problems.append(f"{pulls} open pull requests for {changed} changed repositories")
        return changed, pulls, problems


def hyperfine(arguments, export):
    subprocess.run(["hyperfine", "--style", "basic", "--output", "null", "--export-json", str(export), *arguments],
                   check=True, stdout=sys.stderr, env={**os.environ, **IDENTITY})
    return {result["command"]: {key: result[key] for key in ("mean", "stddev", "min", "times")}
            for result in json.loads(export.read_text())["results"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "tmp" / "fleet.json")
    arguments = parser.parse_args()
    if not (VENV / "all-repos-sed").exists() or not (CORPUS / "python").exists():
        sys.exit("all-repos or the corpus is missing: run bench/setup.sh")
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet", "--bin", "fleetmod"], check=True, cwd=ROOT)
    with tempfile.TemporaryDirectory(prefix="fleetmod-fleet-") as scratch_name:
        scratch = Path(scratch_name)
        subprocess.run([sys.executable, Path(__file__).with_name("corpus_fleet.py"), scratch, str(arguments.count),
                        CORPUS / "python"], check=True, stdout=sys.stderr)
        fleet = Fleet(scratch, str(arguments.jobs))
        changed, pulls, problems = fleet.check()
        for problem in problems:
            print(f"MISMATCH: {problem}", file=sys.stderr)
        first = hyperfine([
            "--runs", str(arguments.runs),
            "--prepare", fleet.fleetmod_prepare(), "--command-name", "fleetmod", fleet.fleetmod(),
            "--prepare", fleet.all_repos_prepare(), "--command-name", "all-repos", fleet.all_repos(),
        ], scratch / "first.json")
        fleet.shell(fleet.fleetmod_prepare())
        fleet.shell(fleet.fleetmod())
        rerun = hyperfine(["--runs", str(arguments.runs), "--warmup", "1",
                           "--command-name", "fleetmod rerun", fleet.fleetmod()], scratch / "rerun.json")
        results = {
            "count": arguments.count, "jobs": arguments.jobs, "runs": arguments.runs,
            "changed": changed, "pull_requests": pulls, "agree": not problems,
            "first": first, "rerun": rerun["fleetmod rerun"],
            "all_repos_version": subprocess.run([VENV / "pip", "show", "all-repos"], capture_output=True,
                                                text=True).stdout.split("Version: ")[1].split()[0],
        }
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {arguments.out}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
