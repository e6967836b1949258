-- Daily revenue per customer (a dbt model).
{{ config(materialized='table') }}

with orders as (
    select cust_id, amt, order_date
    from sales.orders
)

select order_date, cust_id, sum(amt) as revenue
from orders
group by order_date, cust_id
