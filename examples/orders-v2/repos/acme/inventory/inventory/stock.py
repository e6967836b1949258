"""Stock levels; reads order lines, not orders, so the migration leaves it alone."""

STOCK_QUERY = """
    SELECT i.sku, SUM(i.quantity) AS sold
    FROM sales.order_items AS i
    JOIN warehouse.stock AS s ON s.sku = i.sku
    GROUP BY i.sku
"""


def sold_per_sku(connection):
    return dict(connection.execute(STOCK_QUERY).fetchall())
