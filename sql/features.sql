-- customer_features on a small, hand-checked history; the balance ledger read
-- from either end gives the same balances.
SET search_path = pre_delinquency, public;
SET client_min_messages = warning;

INSERT INTO customers VALUES
  ('f0000000-0000-0000-0000-000000000001', 1000, 5, 'low', 'savings', '2024-01-01 00:00+00', 100, 50);
INSERT INTO transactions VALUES
  (gen_random_uuid(), 'f0000000-0000-0000-0000-000000000001', '2024-02-03 10:00+00', 1000, 'credit', 'salary', 'netbanking', NULL, false),
  (gen_random_uuid(), 'f0000000-0000-0000-0000-000000000001', '2024-03-04 10:00+00', 990, 'credit', 'salary', 'netbanking', NULL, false),
  (gen_random_uuid(), 'f0000000-0000-0000-0000-000000000001', '2024-03-03 10:00+00', 20.10, 'debit', 'dining', 'card', 'm1', false),
  (gen_random_uuid(), 'f0000000-0000-0000-0000-000000000001', '2024-03-04 10:00+00', 999, 'debit', 'dining', 'card', 'm1', true);

-- As of 2024-03-20: d = 03-05, salary on 03-04 (delay 0, 990 vs 1000: -1%),
-- d_2 = 01-05 has no salary (missed 1); balances 100 + 1000 + 990 - 20.10;
-- 16 days at 2069.90, one at 1079.90, 13 at 1100: stddev 484.600296 / 1000;
-- dining 20.10 in [t-37d, t-7d) and none since: 7-day drop 100;
-- two successful transactions in R30 vs one in B90: 100 (1 - 6) / 1 = -500.
SELECT * FROM customer_features('f0000000-0000-0000-0000-000000000001', '2024-03-20 00:00+00') \gx

-- Default as_of is now(); an as_of long after the last event sees an idle account
SELECT (customer_features('f0000000-0000-0000-0000-000000000001')).inactive_days_30d;

-- The same history on a customer opened long ago: the ledger is summed from
-- the other end for old as_of times, with the same balances.
INSERT INTO customers
SELECT 'f0000000-0000-0000-0000-000000000002', monthly_income, salary_day, income_bracket,
       account_type, '1990-01-01 00:00+00', opening_balance, min_balance
FROM customers WHERE customer_id = 'f0000000-0000-0000-0000-000000000001';
INSERT INTO transactions
SELECT gen_random_uuid(), 'f0000000-0000-0000-0000-000000000002', txn_time, amount, txn_type,
       category, channel, merchant_id, is_failed
FROM transactions WHERE customer_id = 'f0000000-0000-0000-0000-000000000001';
-- ... and many months of small transfers on both, so the ledger has rows on both sides
INSERT INTO transactions
SELECT gen_random_uuid(), c, ts, 1 + extract(month FROM ts), 'credit', 'transfer_in', 'upi', NULL, false
FROM unnest(ARRAY['f0000000-0000-0000-0000-000000000001', 'f0000000-0000-0000-0000-000000000002']::uuid[]) c,
     generate_series('2021-01-07 08:00+00'::timestamptz, '2026-12-07 08:00+00', interval '1 month') ts;
SELECT t,
       (SELECT count(*) FROM unnest(ARRAY[(a).balance_drawdown_7d_pct, (a).balance_drawdown_30d_pct,
               (a).balance_volatility_30d, (a).days_below_min_balance_30d])
               WITH ORDINALITY x(v, i)
        JOIN unnest(ARRAY[(b).balance_drawdown_7d_pct, (b).balance_drawdown_30d_pct,
               (b).balance_volatility_30d, (b).days_below_min_balance_30d])
               WITH ORDINALITY y(v, i) USING (i)
        WHERE x.v IS DISTINCT FROM y.v) AS differing_balance_features,
       round((a).balance_volatility_30d::numeric, 6) AS volatility
FROM (SELECT t, customer_features('f0000000-0000-0000-0000-000000000001', t) a,
                customer_features('f0000000-0000-0000-0000-000000000002', t) b
      FROM (VALUES ('2021-03-15 00:00+00'::timestamptz), ('2022-07-01 00:00+00'),
                   ('2024-03-20 00:00+00'), ('2026-06-30 00:00+00')) v(t)) s;

-- The features of many customers in one query, as a scoring job would read them
SELECT count(*), sum((f).spend_to_income_ratio_30d) > 0 AS some_spend
FROM (SELECT customer_features(customer_id, '2024-03-20 00:00+00') f FROM customers) s;

DELETE FROM customers WHERE customer_id::text LIKE 'f0000000-%';
