-- The covering index: a customer's history read from the index alone (heap
-- pages all-visible after VACUUM) gives exactly the features read from the
-- heap (before VACUUM), without fetching a single heap tuple.
SET search_path = pre_delinquency, public;
SET client_min_messages = warning;

-- the feature indexes hold every column the engine reads
SELECT c.relname, pg_get_indexdef(c.oid) ~ 'INCLUDE \((amount|kind)' AS covering
FROM pg_class c
WHERE c.relname IN ('transactions_customer_time_idx', 'transactions_salary_idx',
                    'payments_customer_due_idx')
ORDER BY 1;

-- heap tuples fetched through the two indexes (index-only reads count none)
CREATE FUNCTION pg_temp.heap_fetches() RETURNS bigint LANGUAGE sql AS $$
	SELECT pg_stat_get_xact_tuples_fetched('pre_delinquency.transactions_customer_time_idx'::regclass)
	     + pg_stat_get_xact_tuples_fetched('pre_delinquency.transactions_salary_idx'::regclass)
	     + pg_stat_get_xact_tuples_fetched('pre_delinquency.payments_customer_due_idx'::regclass)
$$;

-- no autovacuum may set visibility bits behind the test's back, and VACUUM
-- sets them only on rows whose commit is flushed (the scratch cluster runs
-- with synchronous_commit off)
ALTER TABLE transactions SET (autovacuum_enabled = false);
ALTER TABLE payments SET (autovacuum_enabled = false);
SET synchronous_commit = on;
CREATE TEMP TABLE before_bank AS SELECT customer_id FROM customers;
SELECT customers FROM generate_synthetic(60, 200, 23, '2025-06-30 00:00+00');
CREATE TEMP TABLE bank AS
SELECT customer_id FROM customers EXCEPT SELECT customer_id FROM before_bank;

-- From the heap: the new rows' pages are not all-visible yet.
BEGIN;
SELECT pg_temp.heap_fetches() AS fetched0 \gset
CREATE TEMP TABLE from_heap AS
SELECT b.customer_id, f.*
FROM bank b, customer_features(b.customer_id, '2025-06-20 00:00+00') f;
SELECT pg_temp.heap_fetches() - :fetched0 AS heap_rows_before \gset
SELECT :heap_rows_before >= 60 * 20 AS read_the_heap;
COMMIT;

-- VACUUM marks a page all-visible only if no transaction of this database
-- could still see it otherwise, so first wait (up to 30 s) until no other
-- backend here holds a snapshot or a transaction id.
DO $$
BEGIN
	FOR i IN 1 .. 300 LOOP
		PERFORM pg_stat_clear_snapshot();
		EXIT WHEN NOT EXISTS (
			SELECT FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()
			  AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL));
		PERFORM pg_sleep(0.1);
	END LOOP;
END $$;
-- Nor does it mark a page another process has pinned when VACUUM gets there
-- (it reads it without pruning, as lazy_scan_noprune): the background writer
-- flushing the bank's dirty pages left 14-136 pages unmarked in 4 of 15 runs
-- of the suite (VACUUM VERBOSE, relallvisible < relpages, no other backend).
-- So flush them first, and VACUUM again while any page is left.
CHECKPOINT;
VACUUM (INDEX_CLEANUP on) transactions, payments;
SELECT bool_or(relallvisible < relpages) AS unmarked FROM pg_class
WHERE oid IN ('transactions'::regclass, 'payments'::regclass) \gset
\if :unmarked
VACUUM transactions, payments;
SELECT bool_or(relallvisible < relpages) AS unmarked FROM pg_class
WHERE oid IN ('transactions'::regclass, 'payments'::regclass) \gset
\endif
\if :unmarked
SELECT pg_sleep(1) AS slept \gset
VACUUM transactions, payments;
\endif

-- From the index alone: the same 31 features, bit for bit.
BEGIN;
SELECT pg_temp.heap_fetches() AS fetched0 \gset
CREATE TEMP TABLE from_index AS
SELECT b.customer_id, f.*
FROM bank b, customer_features(b.customer_id, '2025-06-20 00:00+00') f;
SELECT pg_temp.heap_fetches() - :fetched0 AS heap_rows_after;
COMMIT;
SELECT count(*) AS customers,
       count(*) FILTER (WHERE h IS NOT DISTINCT FROM i) AS identical
FROM (SELECT h.customer_id, to_jsonb(h) AS h, to_jsonb(i) AS i
      FROM from_heap h JOIN from_index i USING (customer_id)) s;

-- A row written after the VACUUM (its page not all-visible) is read from the
-- heap, mixed with index-only rows of the same customer.
INSERT INTO transactions
SELECT gen_random_uuid(), customer_id, '2025-06-19 12:00+00', 5000, 'debit', 'atm', 'atm', NULL, false
FROM bank;
CREATE TEMP TABLE from_mixed AS
SELECT b.customer_id, f.*
FROM bank b, customer_features(b.customer_id, '2025-06-20 00:00+00') f;
SELECT count(*) FILTER (WHERE m.cash_reliance_ratio_30d > h.cash_reliance_ratio_30d) AS more_cash
FROM from_heap h JOIN from_mixed m USING (customer_id);

-- An index without the INCLUDE columns still works: every row from the heap.
DROP INDEX transactions_customer_time_idx;
CREATE INDEX transactions_customer_time_idx ON transactions (customer_id, txn_time);
SELECT count(*) FILTER (WHERE to_jsonb(f) = to_jsonb(m) - 'customer_id') AS identical_plain
FROM from_mixed m, customer_features(m.customer_id, '2025-06-20 00:00+00') f;
DROP INDEX transactions_customer_time_idx;
CREATE INDEX transactions_customer_time_idx ON transactions (customer_id, txn_time)
	INCLUDE (amount, txn_type, category, channel, merchant_id, is_failed);

-- Many customers through one set of scans (assess_all's), with dead rows in
-- their ranges: deleted and not vacuumed, first met by assess_all (the index
-- AM remembers them as killed while it moves from customer to customer).
-- The same scores as one customer at a time.
DELETE FROM transactions
WHERE customer_id IN (SELECT customer_id FROM bank) AND txn_time = '2025-06-19 12:00+00';
BEGIN;
SELECT assess_all('2025-06-20 00:00+00') > 0 AS assessed;
SELECT count(*) AS customers,
       count(*) FILTER (WHERE r.risk_score = score_customer(r.customer_id, r.as_of)) AS same_score
FROM risk_scores r JOIN bank USING (customer_id);
ROLLBACK;

DELETE FROM customers WHERE customer_id IN (SELECT customer_id FROM bank);
ALTER TABLE transactions RESET (autovacuum_enabled);
ALTER TABLE payments RESET (autovacuum_enabled);

-- The tables the engine reads through covering indexes are vacuumed after
-- inserts of 1 % (the default is 20 %): only vacuum marks pages all-visible;
-- the ledger's pages are half filled, so its updates stay on their page
SELECT relname, reloptions FROM pg_class
WHERE oid IN ('transactions'::regclass, 'payments'::regclass, 'balance_ledger'::regclass)
ORDER BY relname;
