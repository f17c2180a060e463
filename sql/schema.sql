-- Constraints of FEATURES.md's tables, the balance ledger and privileges.
SET search_path = pre_delinquency, public;
SET client_min_messages = warning;

INSERT INTO customers VALUES
  ('11111111-0000-0000-0000-000000000001', 50000, 5, 'middle', 'savings',
   '2024-01-01 00:00+00', 1000, 500);

-- Rejected at the door (terse: the failing rows hold random ids)
\set VERBOSITY terse
INSERT INTO customers VALUES ('11111111-0000-0000-0000-000000000002', 0, 5, 'x', 'x', now());
INSERT INTO customers VALUES ('11111111-0000-0000-0000-000000000002', 100, 29, 'x', 'x', now());
INSERT INTO customers VALUES ('11111111-0000-0000-0000-000000000002', 'NaN', 5, 'x', 'x', now());
INSERT INTO transactions VALUES (gen_random_uuid(), '11111111-0000-0000-0000-000000000001',
  '2024-02-01', 10, 'credit', 'groceries', 'card', NULL, false);
INSERT INTO transactions VALUES (gen_random_uuid(), '11111111-0000-0000-0000-000000000001',
  '2024-02-01', 10, 'debit', 'salary', 'card', NULL, false);
INSERT INTO transactions VALUES (gen_random_uuid(), '11111111-0000-0000-0000-000000000001',
  '2024-02-01', 10, 'debit', 'groceries', 'carrier-pigeon', NULL, false);
INSERT INTO transactions VALUES (gen_random_uuid(), '11111111-0000-0000-0000-000000000001',
  '2024-02-01', -10, 'debit', 'groceries', 'card', NULL, false);
INSERT INTO transactions VALUES (gen_random_uuid(), '11111111-0000-0000-0000-000000000001',
  '2024-02-01', 'NaN', 'debit', 'groceries', 'card', NULL, false);
INSERT INTO transactions VALUES (gen_random_uuid(), '11111111-0000-0000-0000-000000000001',
  '2024-02-01', 10, 'debit', 'groceries', 'card', '', false);
INSERT INTO transactions VALUES (gen_random_uuid(), '11111111-0000-0000-0000-000000000001',
  'infinity', 10, 'debit', 'groceries', 'card', NULL, false);
INSERT INTO transactions VALUES (gen_random_uuid(), '11111111-0000-0000-0000-0000000000ff',
  '2024-02-01', 10, 'debit', 'groceries', 'card', NULL, false);
INSERT INTO payments VALUES (gen_random_uuid(), '11111111-0000-0000-0000-000000000001',
  'loan', '2024-02-05', 100, '2024-02-05', 0);
INSERT INTO payments VALUES (gen_random_uuid(), '11111111-0000-0000-0000-000000000001',
  'loan', '2024-02-05', 100, NULL, 100);
INSERT INTO payments VALUES (gen_random_uuid(), '11111111-0000-0000-0000-000000000001',
  'mortgage', '2024-02-05', 100, NULL, 0);

\set VERBOSITY default

-- The ledger follows inserts, updates (is_failed flips, amounts, times) and deletes
INSERT INTO transactions VALUES
  ('22222222-0000-0000-0000-000000000001', '11111111-0000-0000-0000-000000000001',
   '2024-02-05 09:00+00', 50000, 'credit', 'salary', 'netbanking', NULL, false),
  ('22222222-0000-0000-0000-000000000002', '11111111-0000-0000-0000-000000000001',
   '2024-02-29 23:59:59+00', 1200.50, 'debit', 'groceries', 'card', 'M1', false),
  ('22222222-0000-0000-0000-000000000003', '11111111-0000-0000-0000-000000000001',
   '2024-03-01 00:00+00', 99.99, 'debit', 'dining', 'upi', 'M2', true);
SELECT month, net_cents FROM balance_ledger ORDER BY month;
UPDATE transactions SET is_failed = false WHERE event_id = '22222222-0000-0000-0000-000000000003';
UPDATE transactions SET txn_time = '2024-03-02 00:00+00' WHERE event_id = '22222222-0000-0000-0000-000000000002';
DELETE FROM transactions WHERE event_id = '22222222-0000-0000-0000-000000000001';
SELECT month, net_cents FROM balance_ledger ORDER BY month;
-- equal to a rebuild from scratch
CREATE TEMP TABLE ledger_before AS SELECT * FROM balance_ledger;
SELECT rebuild_balance_ledger();
SELECT count(*) AS differences FROM (
  (SELECT customer_id, month, net_cents FROM ledger_before WHERE net_cents <> 0
   EXCEPT SELECT * FROM balance_ledger)
  UNION ALL
  (SELECT * FROM balance_ledger
   EXCEPT SELECT customer_id, month, net_cents FROM ledger_before)) d;
-- A deleted customer takes its ledger rows along; so does TRUNCATE
DELETE FROM customers WHERE customer_id = '11111111-0000-0000-0000-000000000001';
SELECT count(*) AS ledger_rows FROM balance_ledger;
INSERT INTO customers VALUES
  ('11111111-0000-0000-0000-000000000004', 1000, 1, 'low', 'savings', '2024-01-01', 0, 0);
INSERT INTO transactions VALUES ('22222222-0000-0000-0000-000000000004',
  '11111111-0000-0000-0000-000000000004', '2024-02-01', 10, 'credit', 'refund', 'online', NULL, false);
SELECT count(*) AS ledger_rows FROM balance_ledger;
TRUNCATE transactions;
SELECT count(*) AS ledger_rows_after_truncate FROM balance_ledger;
DELETE FROM customers;

-- Nothing is writable or executable by PUBLIC; roles carry the rights
SELECT c.relname, has_table_privilege('public', c.oid, 'SELECT, INSERT, UPDATE, DELETE') AS public_access
FROM pg_class c WHERE c.relnamespace = 'pre_delinquency'::regnamespace AND c.relkind = 'r'
ORDER BY 1;
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
FROM pg_proc p WHERE p.pronamespace = 'pre_delinquency'::regnamespace
ORDER BY 1;
SELECT has_function_privilege('pre_delinquency_reader',
         'pre_delinquency.customer_features(uuid, timestamptz)', 'EXECUTE') AS reader_features,
       has_function_privilege('pre_delinquency_reader',
         'pre_delinquency.generate_synthetic(int, int, int, timestamptz)', 'EXECUTE') AS reader_generate,
       has_function_privilege('pre_delinquency_operator',
         'pre_delinquency.generate_synthetic(int, int, int, timestamptz)', 'EXECUTE') AS operator_generate,
       has_table_privilege('pre_delinquency_operator', 'pre_delinquency.balance_ledger', 'INSERT') AS operator_writes_ledger;

-- An operator inserts transactions; the ledger follows through the trigger
CREATE ROLE pd_regress_operator LOGIN IN ROLE pre_delinquency_operator;
INSERT INTO customers VALUES
  ('11111111-0000-0000-0000-000000000003', 1000, 1, 'low', 'savings', '2024-01-01', 0, 0);
SET ROLE pd_regress_operator;
INSERT INTO transactions VALUES (gen_random_uuid(), '11111111-0000-0000-0000-000000000003',
  '2024-02-01', 10, 'credit', 'refund', 'online', NULL, false);
SELECT net_cents FROM balance_ledger;  -- not readable by the operator
RESET ROLE;
SELECT month, net_cents FROM balance_ledger ORDER BY month;
DELETE FROM customers;
DROP ROLE pd_regress_operator;

-- ANALYZE leaves the jsonb documents of the fastest-growing tables alone
SELECT attrelid::regclass AS table_name, attname, attstattarget
FROM pg_attribute
WHERE (attrelid, attname) IN (('risk_scores'::regclass, 'top_features'), ('outbox'::regclass, 'payload'))
ORDER BY 1;
