"""Revenue per customer, read from the orders table."""
from google.cloud import bigquery

ORDERS = "acme-prod.sales.orders"


def revenue(client: bigquery.Client, day: str):
    query = f"""
        SELECT o.cust_id, SUM(o.amt) AS revenue
        FROM `{ORDERS}` AS o
        JOIN sales.customers AS c ON c.cust_id = o.cust_id
        WHERE o.order_date = '{day}' AND o.legacy_code IS NULL
        GROUP BY o.cust_id
    """
    rows = client.query(query).result()
    return {row["cust_id"]: row["revenue"] for row in rows}


def largest(client: bigquery.Client):
    sql = "SELECT cust_id, amt FROM `acme-prod.sales.orders` ORDER BY amt DESC LIMIT 10"
    return [(row["cust_id"], row["amt"]) for row in client.query(sql).result()]
