-- generate_synthetic: a small deterministic bank, checked against what
-- FEATURES.md ("The synthetic bank", "The label") promises. Outputs are
-- booleans and ranges, so tuning the model does not churn this file.
SET client_min_messages = warning;
-- Nothing may depend on the session's TimeZone: run in one that is not UTC.
SET TimeZone = 'Asia/Kolkata';

CREATE TEMP TABLE run1 AS
SELECT * FROM pre_delinquency.generate_synthetic(200, 200, 4242, '2025-06-30 00:00+00');

-- Seed 4242 is 0x00001092: its customers are one key range.
CREATE TEMP VIEW c AS
SELECT * FROM pre_delinquency.customers
WHERE customer_id BETWEEN '00001092-1000-0000-0000-000000000000'
                      AND '00001092-1fff-ffff-ffff-ffffffffffff';
CREATE TEMP VIEW t AS
SELECT t.* FROM pre_delinquency.transactions t JOIN c USING (customer_id);
CREATE TEMP VIEW p AS
SELECT p.* FROM pre_delinquency.payments p JOIN c USING (customer_id);

-- The summary counts what was written, at a plausible volume
SELECT r.customers = 200 AND (SELECT count(*) FROM c) = 200 AS customers_ok,
       r.transactions = (SELECT count(*) FROM t) AS transactions_counted,
       r.transactions BETWEEN 1.1 * 200 * 200 AND 1.6 * 200 * 200 AS volume_1_1_to_1_6_per_day,
       r.payments = (SELECT count(*) FROM p) AS payments_counted,
       r.payments BETWEEN 3 * 200 * 6 AND 6 * 200 * 7 AS payments_3_to_6_a_month,
       r.failed_transactions = (SELECT count(*) FROM t WHERE is_failed) AS failed_counted,
       r.failed_transactions BETWEEN 1 AND 0.05 * r.transactions AS some_failed,
       r.episode_share BETWEEN 0.2 AND 0.45 AS episode_share_plausible,
       r.elapsed_ms > 0 AS timed
FROM run1 r;

-- Customers: incomes by bracket, account terms, salary days, opening dates
SELECT income_bracket,
       min(monthly_income) >= 20000 AND max(monthly_income) <= 400000 AS income_in_range,
       bool_and(salary_day BETWEEN 1 AND 28) AS salary_day_ok
FROM c GROUP BY 1 ORDER BY 1;
SELECT account_type, array_agg(DISTINCT min_balance ORDER BY min_balance) AS min_balances
FROM c GROUP BY 1 ORDER BY 1;
SELECT count(*) FILTER (WHERE opened_at >= '2025-06-30 00:00+00'::timestamptz - interval '200 days')
         BETWEEN 5 AND 45 AS about_a_tenth_opened_inside,
       bool_and(opened_at < '2025-06-30 00:00+00') AS all_opened_before_end
FROM c;

-- Every category, channel and payment kind of FEATURES.md is used
SELECT count(DISTINCT category) AS categories, count(DISTINCT channel) AS channels,
       (SELECT count(DISTINCT kind) FROM p) AS payment_kinds,
       (SELECT count(DISTINCT income_bracket) FROM c) AS brackets,
       (SELECT count(DISTINCT account_type) FROM c) AS account_types
FROM t;

-- Merchants: a pool per customer; none for cash, salary and transfers
SELECT bool_and(merchant_id ~ '^M[0-9]{6}$') AS merchant_format,
       bool_and(merchant_id IS NULL) FILTER (WHERE category IN
         ('atm', 'salary', 'transfer_in', 'transfer_out', 'loan_payment', 'rent')) AS none_for_cash_and_transfers,
       count(merchant_id) > count(*) / 2 AS most_have_one
FROM t;

-- Time: inside [window start, end_time) and never before the account opened
SELECT bool_and(t.txn_time < '2025-06-30 00:00+00') AS none_at_or_after_end,
       bool_and(t.txn_time >= '2025-06-30 00:00+00'::timestamptz - interval '200 days') AS none_before_window,
       bool_and(t.txn_time >= c.opened_at) AS none_before_opening
FROM t JOIN c USING (customer_id);

-- Weekend rhythm (UTC days): more dining and entertainment per day on weekends
SELECT avg(n) FILTER (WHERE dow IN (0, 6)) > 1.2 * avg(n) FILTER (WHERE dow BETWEEN 1 AND 5)
         AS weekend_leisure
FROM (SELECT (txn_time AT TIME ZONE 'UTC')::date AS d,
             extract(dow FROM txn_time AT TIME ZONE 'UTC') AS dow, count(*) AS n
      FROM t WHERE category IN ('dining', 'entertainment') GROUP BY 1, 2) x;

-- Salary: monthly, on salary_day, mostly 0-2 days late
SELECT count(*) FILTER (WHERE (extract(day FROM t.txn_time AT TIME ZONE 'UTC')::int
                               - c.salary_day + 31) % 31 <= 2)::float8 / count(*) > 0.8
         AS salary_mostly_on_time,
       count(DISTINCT t.customer_id) > 190 AS everybody_paid
FROM t JOIN c USING (customer_id)
WHERE t.category = 'salary';

-- Loans: one instalment a month per customer, by autodebit when it can be
SELECT count(*) FILTER (WHERE kind = 'loan') BETWEEN 200 * 5 AND 200 * 7 AS monthly_loans,
       (SELECT count(*) FROM t WHERE category = 'loan_payment' AND channel = 'autodebit'
          AND NOT is_failed) > 0.8 * count(*) FILTER (WHERE kind = 'loan') AS mostly_autodebit
FROM p;

-- Payments: due by date(end_time); paid_date NULL <=> amount_paid = 0; the
-- paid date is the day of the debit that paid it, for the amount paid
SELECT bool_and(due_date <= '2025-06-30') AS due_by_end,
       bool_and((paid_date IS NULL) = (amount_paid = 0)) AS unpaid_iff_zero,
       bool_and(amount_paid <= amount_due) AS never_overpaid,
       bool_and(paid_date IS NULL OR EXISTS (
         SELECT 1 FROM t
         WHERE t.customer_id = p.customer_id AND NOT t.is_failed AND t.txn_type = 'debit'
           AND (t.txn_time AT TIME ZONE 'UTC')::date = p.paid_date
           AND t.amount = p.amount_paid
           AND t.category = CASE p.kind WHEN 'loan' THEN 'loan_payment'
                                        WHEN 'utility' THEN 'utilities'
                                        WHEN 'credit_card' THEN 'other'
                                        ELSE p.kind END)) AS paid_by_a_debit,
       count(*) FILTER (WHERE paid_date > due_date + 5) > 0 AS some_late,
       count(*) FILTER (WHERE paid_date IS NOT NULL AND amount_paid < amount_due) > 0 AS some_partial,
       count(*) FILTER (WHERE paid_date IS NULL AND due_date < '2025-06-01') > 0 AS some_missed
FROM p;

-- Failed autodebits exist, and each happened when the simulated balance
-- (opening balance + successful flow of the events before it, in event_id
-- order = the simulation's order) could not cover it
WITH flow AS (
  SELECT t.*, c.opening_balance + coalesce(sum(CASE WHEN is_failed THEN 0
                                  WHEN txn_type = 'credit' THEN amount ELSE -amount END)
           OVER (PARTITION BY customer_id ORDER BY event_id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS balance_before
  FROM t JOIN c USING (customer_id))
SELECT count(*) FILTER (WHERE is_failed AND channel = 'autodebit') > 0 AS failed_autodebits,
       bool_and(balance_before < amount) FILTER (WHERE is_failed AND channel = 'autodebit')
         AS failed_only_when_short,
       count(DISTINCT customer_id) FILTER (WHERE balance_before < 0) < 0.15 * 200 AS few_overdrawn,
       min(balance_before) > -500000 AS none_deeply_negative
FROM flow;

-- The ledger is what rebuild_balance_ledger() computes
BEGIN;
CREATE TEMP TABLE ledger_before ON COMMIT DROP AS
SELECT l.* FROM pre_delinquency.balance_ledger l JOIN c USING (customer_id);
SELECT pre_delinquency.rebuild_balance_ledger() > 0 AS rebuilt;
SELECT (SELECT count(*) FROM ledger_before) > 200 AS has_rows,
       NOT EXISTS (SELECT customer_id, month, net_cents FROM ledger_before
                   EXCEPT SELECT l.customer_id, l.month, l.net_cents
                          FROM pre_delinquency.balance_ledger l JOIN c USING (customer_id))
   AND NOT EXISTS (SELECT l.customer_id, l.month, l.net_cents
                   FROM pre_delinquency.balance_ledger l JOIN c USING (customer_id)
                   EXCEPT SELECT customer_id, month, net_cents FROM ledger_before)
       AS ledger_equals_rebuild;
ROLLBACK;

-- label_share is the label of FEATURES.md read off the payments
WITH s AS (
  SELECT (e->>'as_of')::timestamptz AS as_of, (e->>'labelled')::int AS labelled,
         (e->>'positive_share')::float8 AS share
  FROM run1, jsonb_array_elements(label_share) e),
lab AS (
  SELECT s.as_of, p.customer_id,
         max(CASE WHEN p.paid_date IS NULL OR p.paid_date > p.due_date + 5
                    OR p.amount_paid < p.amount_due THEN 1 ELSE 0 END) AS label
  FROM s JOIN p ON p.kind = 'loan'
   AND p.due_date >= (s.as_of AT TIME ZONE 'UTC')::date
   AND p.due_date < (s.as_of AT TIME ZONE 'UTC')::date + 30
  GROUP BY 1, 2)
SELECT to_char(s.as_of AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS as_of_utc,
       s.labelled = count(lab.*) AS labelled_matches,
       round(s.share::numeric, 4) = round(avg(lab.label)::numeric, 4) AS share_matches,
       s.share BETWEEN 0.02 AND 0.25 AS share_plausible
FROM s LEFT JOIN lab USING (as_of)
GROUP BY s.as_of, s.labelled, s.share ORDER BY s.as_of DESC;

-- Deterministic: the same arguments give byte-identical rows, uuids included
CREATE TEMP TABLE digest1 AS
SELECT (SELECT md5(string_agg(c::text, '|' ORDER BY customer_id)) FROM c) AS customers,
       (SELECT md5(string_agg(t::text, '|' ORDER BY event_id)) FROM t) AS transactions,
       (SELECT md5(string_agg(p::text, '|' ORDER BY payment_id)) FROM p) AS payments;
DELETE FROM pre_delinquency.customers WHERE customer_id IN (SELECT customer_id FROM c);
SELECT (SELECT count(*) FROM t) AS transactions_left, (SELECT count(*) FROM p) AS payments_left;
CREATE TEMP TABLE run2 AS
SELECT * FROM pre_delinquency.generate_synthetic(200, 200, 4242, '2025-06-30 00:00+00');
SELECT d.customers = (SELECT md5(string_agg(c::text, '|' ORDER BY customer_id)) FROM c) AS same_customers,
       d.transactions = (SELECT md5(string_agg(t::text, '|' ORDER BY event_id)) FROM t) AS same_transactions,
       d.payments = (SELECT md5(string_agg(p::text, '|' ORDER BY payment_id)) FROM p) AS same_payments,
       (r1.customers, r1.transactions, r1.payments, r1.failed_transactions,
        r1.episode_share, r1.label_share)
     = (r2.customers, r2.transactions, r2.payments, r2.failed_transactions,
        r2.episode_share, r2.label_share) AS same_summary
FROM digest1 d, run1 r1, run2 r2;

-- event_ids increase in insertion order, per customer in time order
SELECT bool_and(ok) AS event_ids_follow_time
FROM (SELECT txn_time >= lag(txn_time) OVER (PARTITION BY customer_id ORDER BY event_id) AS ok
      FROM t) x WHERE ok IS NOT NULL;

-- Another seed does not collide, and an operator may generate
CREATE ROLE regress_pd_synthetic_operator IN ROLE pre_delinquency_operator;
SET ROLE regress_pd_synthetic_operator;
SELECT customers, transactions > 0 AS has_transactions
FROM pre_delinquency.generate_synthetic(20, 60, 4243, '2025-06-30 00:00+00');
RESET ROLE;
SELECT count(*) AS seed_4243_customers
FROM pre_delinquency.customers WHERE customer_id::text LIKE '00001093-1%';

-- Calling twice with one seed is a clear error, not a unique violation
SELECT * FROM pre_delinquency.generate_synthetic(5, 10, 4242, '2025-06-30 00:00+00');

-- A DBA's trigger an INSERT would fire is never bypassed in silence, even
-- one named like the ledger's own; one that fires on UPDATE only is no
-- reason to refuse (generated rows are only inserted)
CREATE TABLE regress_audit (n int);
CREATE FUNCTION regress_audit_row() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO regress_audit VALUES (1); RETURN NULL; END $$;
CREATE TRIGGER transactions_ledger_audit AFTER INSERT ON pre_delinquency.transactions
  FOR EACH ROW EXECUTE FUNCTION regress_audit_row();
SELECT customers FROM pre_delinquency.generate_synthetic(3, 10, 4244, '2025-06-30 00:00+00');
DROP TRIGGER transactions_ledger_audit ON pre_delinquency.transactions;
CREATE TRIGGER regress_audit_update AFTER UPDATE ON pre_delinquency.payments
  FOR EACH ROW EXECUTE FUNCTION regress_audit_row();
SELECT customers FROM pre_delinquency.generate_synthetic(3, 10, 4244, '2025-06-30 00:00+00');
DROP TRIGGER regress_audit_update ON pre_delinquency.payments;
SELECT count(*) AS audited FROM regress_audit;
DELETE FROM pre_delinquency.customers WHERE customer_id::text LIKE '00001094-1%';
DROP FUNCTION regress_audit_row();
DROP TABLE regress_audit;

-- Bad arguments
SELECT * FROM pre_delinquency.generate_synthetic(0, 10, 1);
SELECT * FROM pre_delinquency.generate_synthetic(1000001, 10, 1);
SELECT * FROM pre_delinquency.generate_synthetic(10, 0, 1);
SELECT * FROM pre_delinquency.generate_synthetic(10, 3661, 1);
SELECT * FROM pre_delinquency.generate_synthetic(NULL, 10, 1);
SELECT * FROM pre_delinquency.generate_synthetic(10, 10, NULL);
SELECT * FROM pre_delinquency.generate_synthetic(10, 10, 1, NULL);
SELECT * FROM pre_delinquency.generate_synthetic(10, 10, 1, 'infinity');
SELECT * FROM pre_delinquency.generate_synthetic(10, 10, 1, '0900-01-01 00:00+00');

-- The SQLSTATEs: invalid_parameter_value for arguments, unique_violation
-- for a seed already there
\set VERBOSITY sqlstate
SELECT * FROM pre_delinquency.generate_synthetic(0, 10, 1);
SELECT * FROM pre_delinquency.generate_synthetic(10, 3661, 1);
SELECT * FROM pre_delinquency.generate_synthetic(10, 10, NULL);
SELECT * FROM pre_delinquency.generate_synthetic(10, 10, 1, '-infinity');
SELECT * FROM pre_delinquency.generate_synthetic(5, 10, 4242, '2025-06-30 00:00+00');
\set VERBOSITY default

-- Clean up
DELETE FROM pre_delinquency.customers
WHERE customer_id::text LIKE '00001092-1%' OR customer_id::text LIKE '00001093-1%';
DROP ROLE regress_pd_synthetic_operator;
RESET TimeZone;
RESET client_min_messages;
