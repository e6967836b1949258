#!/usr/bin/env python3
"""Generates a fleet of consumer repositories for `fleetmod run`.

Usage: generate.py DIR [COUNT]

Writes DIR/migration.yaml, DIR/catalog/ (one Backstage component per
repository) and DIR/repos/acme/repo-NNN/ (Python, Java and SQL files; every
fifth repository does not read the migrated table, so it needs no change).
"""
import os
import sys

PYTHON = '''"""Reads orders for report {index}."""

QUERY = """
    SELECT o.cust_id, SUM(o.amt) AS total
    FROM sales.orders AS o
    WHERE o.order_date >= %(start)s
    GROUP BY o.cust_id
"""


def totals(connection, start):
    return connection.execute(QUERY, {{"start": start}}).fetchall()
'''

JAVA = '''package com.acme.repo{index};

public final class OrdersDao {{
    private static final String SQL =
        "SELECT cust_id, amt FROM sales.orders WHERE amt > ?";

    public String query() {{
        return SQL;
    }}
}}
'''

SQL = '''-- Daily totals for repository {index}.
select order_date, cust_id, sum(amt) as total
from sales.orders
group by order_date, cust_id
'''

UNRELATED = '''"""Stock levels {index}: reads order lines, not orders."""

QUERY = "SELECT sku, quantity FROM sales.order_items WHERE quantity > {index}"
'''

SPEC = '''id: orders-v2
title: Move sales.orders to sales_v2.orders
dataset:
  from: sales.orders
  to: sales_v2.orders
  columns:
    cust_id: customer_id
    amt: amount_usd
consumers:
  catalog: catalog/
  resource: resource:default/orders
forge:
  import: repos/
pull_request:
  labels: [data-migration]
'''

COMPONENT = '''---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {name}
  annotations:
    github.com/project-slug: acme/{name}
spec:
  type: service
  owner: group:team-{team}
  dependsOn: [resource:default/orders]
'''


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as file:
        file.write(text)


def main():
    folder = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    catalog = []
    for index in range(count):
        name = "repo-%03d" % index
        repo = os.path.join(folder, "repos", "acme", name)
        write(os.path.join(repo, "README.md"), "# %s\n" % name)
        if index % 5 == 4:
            write(os.path.join(repo, "stock.py"), UNRELATED.format(index=index))
        else:
            write(os.path.join(repo, "reports", "orders.py"), PYTHON.format(index=index))
            write(os.path.join(repo, "src", "OrdersDao.java"), JAVA.format(index=index))
            write(os.path.join(repo, "models", "daily.sql"), SQL.format(index=index))
        catalog.append(COMPONENT.format(name=name, team=index % 7))
    write(os.path.join(folder, "catalog", "catalog-info.yaml"), "".join(catalog))
    write(os.path.join(folder, "migration.yaml"), SPEC)


if __name__ == "__main__":
    main()
