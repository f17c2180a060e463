-- The benchmark peer's tables: the seed system kept its own plain tables, so
-- the peer gets schema peer with a copy of the bank the extension holds (same
-- rows, so both race on the same data), the indexes the seed's queries need,
-- and its own risk_scores. Run with psql -v ON_ERROR_STOP=1 in the bank's
-- database; it replaces an earlier copy.
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS peer CASCADE;
CREATE SCHEMA peer;

CREATE TABLE peer.customers (LIKE pre_delinquency.customers INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE TABLE peer.transactions (LIKE pre_delinquency.transactions INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE TABLE peer.payments (LIKE pre_delinquency.payments INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
INSERT INTO peer.customers SELECT * FROM pre_delinquency.customers;
INSERT INTO peer.transactions SELECT * FROM pre_delinquency.transactions;
INSERT INTO peer.payments SELECT * FROM pre_delinquency.payments;

ALTER TABLE peer.customers ADD PRIMARY KEY (customer_id);
ALTER TABLE peer.transactions ADD PRIMARY KEY (event_id),
	ADD FOREIGN KEY (customer_id) REFERENCES peer.customers;
ALTER TABLE peer.payments ADD PRIMARY KEY (payment_id),
	ADD FOREIGN KEY (customer_id) REFERENCES peer.customers;
CREATE INDEX ON peer.transactions (customer_id, txn_time);
CREATE INDEX ON peer.payments (customer_id, due_date);

CREATE TABLE peer.risk_scores (
	score_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	customer_id  uuid NOT NULL REFERENCES peer.customers,
	scored_at    timestamptz NOT NULL,
	as_of        timestamptz NOT NULL,
	risk_score   float8 NOT NULL,
	risk_level   text NOT NULL,
	top_features jsonb NOT NULL
);
CREATE INDEX ON peer.risk_scores (customer_id, scored_at DESC);
VACUUM ANALYZE peer.customers, peer.transactions, peer.payments;
