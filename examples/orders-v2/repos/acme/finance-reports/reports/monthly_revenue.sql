-- Monthly revenue per customer for the finance team.
SELECT
    date_trunc('month', o.order_date) AS month,
    o.cust_id,
    sum(o.amt) AS revenue
FROM sales.orders AS o
WHERE o.amt > 0
GROUP BY 1, 2
ORDER BY 1, 2;
