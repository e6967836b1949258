#!/usr/bin/env python3
"""Splits the Python corpus into a fleet of git repositories with bare remotes.

Usage: corpus_fleet.py DIR COUNT CORPUS

Writes DIR/remotes/acme/repo-NNN.git (bare, branch master, one commit each),
DIR/catalog/catalog-info.yaml (one Backstage component per repository) and
DIR/migration.yaml. The corpus files are dealt out in path order, so each
repository holds a contiguous slice of Django or the CPython stdlib. Four
repositories in five also get `orders_queries.py`, which reads the table
`sales.orders` in a string literal; that literal is the change both tools
make (`sales.orders` -> `sales_v2.orders`), and nothing else in the corpus
names it.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

# The same Backstage component as the synthetic fleet (generate.py, beside this file).
from generate import COMPONENT

QUERIES = '''"""Order queries for {name}."""

ORDERS = "SELECT order_id, total FROM sales.orders WHERE total > %s"


def large_orders(connection, minimum):
    return connection.execute(ORDERS, (minimum,)).fetchall()
'''

SPEC = '''id: orders-v2
title: Move sales.orders to sales_v2.orders
dataset:
  from: sales.orders
  to: sales_v2.orders
consumers:
  catalog: catalog/
  resource: resource:default/orders
forge:
  kind: local
  root: {forge}
commit:
  author: {{name: fleetmod, email: fleetmod@localhost}}
'''

GIT_ENVIRONMENT = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
    "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@localhost",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
}


def git(*arguments, cwd=None):
    subprocess.run(["git", *arguments], cwd=cwd, check=True, env=GIT_ENVIRONMENT,
                   stdout=subprocess.DEVNULL)


def main():
    folder, count, corpus = Path(sys.argv[1]).resolve(), int(sys.argv[2]), Path(sys.argv[3])
    files = sorted(path for path in corpus.rglob("*.py") if path.is_file())
    if (folder / "remotes").exists():
        shutil.rmtree(folder / "remotes")
    work = folder / "work"
    catalog = []
    per_repo = -(-len(files) // count)
    for index in range(count):
        name = "repo-%03d" % index
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        for path in files[index * per_repo:(index + 1) * per_repo]:
            target = work / path.relative_to(corpus)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        if index % 5 != 4:
            (work / "orders_queries.py").write_text(QUERIES.format(name=name))
        git("init", "--quiet", "--initial-branch", "master", cwd=work)
        git("add", "--all", cwd=work)
        git("commit", "--quiet", "--message", f"Import {name}", cwd=work)
        git("clone", "--quiet", "--bare", str(work), str(folder / "remotes" / "acme" / f"{name}.git"))
        catalog.append(COMPONENT.format(name=name, team=index % 7))
    shutil.rmtree(work)
    (folder / "catalog").mkdir(parents=True, exist_ok=True)
    (folder / "catalog" / "catalog-info.yaml").write_text("".join(catalog))
    (folder / "migration.yaml").write_text(SPEC.format(forge=folder / "forge"))
    print(f"{count} repositories from {len(files)} corpus files in {folder}")


if __name__ == "__main__":
    main()
