"""Features for the churn model."""

ORDER_FEATURES = """
    SELECT cust_id, COUNT(*) AS orders, AVG(amt) AS average_amount
    FROM sales.orders
    GROUP BY cust_id
"""


def load_features(connection):
    return connection.execute(ORDER_FEATURES).fetchall()
