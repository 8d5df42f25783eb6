-- api_aggregates_schema.sql — the schema of test/e2e/api_aggregates.sh: orders with amounts
-- and statuses, and the customers they belong to (for aggregates inside an embed).
\ir api_roles.sql

CREATE SCHEMA api;
CREATE TABLE api.customers (
	id int PRIMARY KEY,
	name text NOT NULL
);
INSERT INTO api.customers VALUES (1, 'ann'), (2, 'bob'), (3, 'cy');

-- open: 10.50 + 20.25, shipped: 5.00 + 100.00, cancelled: 1.25 (total 137.00, 5 orders)
CREATE TABLE api.orders (
	id int PRIMARY KEY,
	status text NOT NULL,
	amount numeric(10, 2) NOT NULL,
	customer_id int REFERENCES api.customers
);
INSERT INTO api.orders VALUES
	(1, 'open', 10.50, 1), (2, 'open', 20.25, 1), (3, 'shipped', 5.00, 2),
	(4, 'shipped', 100.00, NULL), (5, 'cancelled', 1.25, 2);

GRANT USAGE ON SCHEMA api TO web_anon;
GRANT SELECT ON api.customers, api.orders TO web_anon;
