-- Edge cases of FEATURES.md on hand-built customers; every expected value
-- below was worked out by hand from the text (see the comments).
SET search_path = pre_delinquency, public;
SET client_min_messages = warning;

-- A helper to print a customer's features compactly (rounded for reading).
CREATE FUNCTION pg_temp.show(c uuid, t timestamptz)
RETURNS TABLE (n bigint, feature text, value numeric) LANGUAGE sql AS $$
  SELECT f.n, f.name, round(v.value::numeric, 6)
  FROM unnest(pre_delinquency.feature_names()) WITH ORDINALITY AS f(name, n)
  JOIN LATERAL (SELECT (json_each_text(row_to_json(pre_delinquency.customer_features(c, t)))).*) v(key, value)
    ON v.key = f.name
  ORDER BY f.n $$;

INSERT INTO customers VALUES
  -- E1 no history at all; E2 only failed transactions
  ('e0000000-0000-0000-0000-000000000001', 1000, 10, 'low', 'savings', '2024-01-01 00:00+00', 500, 1000),
  ('e0000000-0000-0000-0000-000000000002', 1000, 10, 'low', 'savings', '2024-01-01 00:00+00', 500, 1000),
  -- E3 negative balance
  ('e0000000-0000-0000-0000-000000000003', 1000, 1, 'low', 'savings', '2024-01-01 00:00+00', -200, 0),
  -- E4 salary around d - 5 days, ties, and the six months of feature 3
  ('e0000000-0000-0000-0000-000000000004', 1000, 28, 'low', 'salary', '2023-01-01 00:00+00', 0, 0),
  -- E5..E7 salary_day 1 at the start of a month
  ('e0000000-0000-0000-0000-000000000005', 1000, 1, 'low', 'salary', '2023-01-01 00:00+00', 0, 0),
  ('e0000000-0000-0000-0000-000000000006', 1000, 1, 'low', 'salary', '2023-01-01 00:00+00', 0, 0),
  ('e0000000-0000-0000-0000-000000000007', 1000, 1, 'low', 'salary', '2023-01-01 00:00+00', 0, 0),
  -- E8 salary_day 28 in a leap February
  ('e0000000-0000-0000-0000-000000000008', 1000, 28, 'low', 'salary', '2023-11-15 00:00+00', 0, 0),
  -- E9 transactions exactly on window edges and at as_of
  ('e0000000-0000-0000-0000-000000000009', 3000, 15, 'middle', 'savings', '2020-01-01 00:00+00', 10000, 0),
  -- E10 payments: paid on date(as_of), late, partial, missed
  ('e0000000-0000-0000-0000-000000000010', 1000, 1, 'low', 'savings', '2020-01-01 00:00+00', 0, 0);

-- E2: a failed salary, a failed autodebit, a failed card payment (R30), a failed ATM (B90)
INSERT INTO transactions VALUES
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000002', '2024-06-10 09:00+00', 1000, 'credit', 'salary', 'netbanking', NULL, true),
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000002', '2024-06-05 06:00+00', 80, 'debit', 'utilities', 'autodebit', NULL, true),
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000002', '2024-06-14 20:00+00', 45, 'debit', 'dining', 'card', 'M1', true),
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000002', '2024-03-01 10:00+00', 200, 'debit', 'atm', 'atm', NULL, true);
-- E3: one grocery debit five and a half days before as_of
INSERT INTO transactions VALUES
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000003', '2024-06-10 00:00+00', 100, 'debit', 'groceries', 'card', 'M1', false);
-- E4 (as_of 2025-02-27 06:00, d = 2025-01-28): two credits at exactly d - 5
-- days (the larger wins feature 2), one a second earlier, and credits for
-- the windows of d_1 (edge d_1 - 5), d_2 (edge d_2 + 10), d_5 (edge d_5 + 10);
-- d_3 only has one a day too early; d_4 and d_6 none.
INSERT INTO transactions VALUES
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000004', '2025-01-23 00:00+00', 1100, 'credit', 'salary', 'netbanking', NULL, false),
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000004', '2025-01-23 00:00+00', 900, 'credit', 'salary', 'netbanking', NULL, false),
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000004', '2025-01-22 23:59:59+00', 1000, 'credit', 'salary', 'netbanking', NULL, false),
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000004', '2024-12-23 00:00+00', 1000, 'credit', 'salary', 'netbanking', NULL, false),
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000004', '2024-12-08 23:00+00', 1000, 'credit', 'salary', 'netbanking', NULL, false),
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000004', '2024-10-22 12:00+00', 1000, 'credit', 'salary', 'netbanking', NULL, false),
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000004', '2024-09-07 12:00+00', 1000, 'credit', 'salary', 'netbanking', NULL, false);
-- E5: a credit a second before d - 5 days and one exactly at as_of (both out)
-- E6: one exactly at d - 5 days (in); E7: two days late
INSERT INTO transactions VALUES
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000005', '2025-02-23 23:59:59+00', 1000, 'credit', 'salary', 'netbanking', NULL, false),
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000005', '2025-03-04 00:00+00', 1000, 'credit', 'salary', 'netbanking', NULL, false),
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000006', '2025-02-24 00:00+00', 1000, 'credit', 'salary', 'netbanking', NULL, false),
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000007', '2025-03-03 10:00+00', 1000, 'credit', 'salary', 'netbanking', NULL, false);
-- E8: salaries on 2024-01-28 and 2023-12-30 (d_2 + 2)
INSERT INTO transactions VALUES
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000008', '2024-01-28 08:00+00', 1000, 'credit', 'salary', 'netbanking', NULL, false),
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000008', '2023-12-30 08:00+00', 1000, 'credit', 'salary', 'netbanking', NULL, false);
-- E9 (as_of t = 2024-06-15 12:00, a Saturday): dining debits at t, t - 7d,
-- t - 30d, t - 37d, t - 120d exactly, and a second before t - 120d.
INSERT INTO transactions VALUES
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000009', '2024-06-15 12:00+00', 500, 'debit', 'dining', 'card', 'Ma', false),
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000009', '2024-06-08 12:00+00', 70, 'debit', 'dining', 'card', 'Mb', false),
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000009', '2024-05-16 12:00+00', 300, 'debit', 'dining', 'card', 'Mc', false),
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000009', '2024-05-09 12:00+00', 30, 'debit', 'dining', 'card', 'Md', false),
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000009', '2024-02-16 12:00+00', 600, 'debit', 'dining', 'card', 'Me', false),
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000009', '2024-02-16 11:59:59+00', 1000, 'debit', 'dining', 'card', 'Mf', false);
-- E10 (as_of 2024-06-15 12:00, date 2024-06-15)
INSERT INTO payments VALUES
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000010', 'utility', '2024-06-10', 100, '2024-06-15', 100),   -- paid on date(as_of): not yet
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000010', 'utility', '2024-06-01', 100, '2024-06-03', 100),   -- 2 days late
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000010', 'rent', '2024-05-01', 1000, '2024-05-01', 1000),    -- on time
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000010', 'loan', '2024-05-05', 500, '2024-05-11', 500),      -- 6 days late
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000010', 'loan', '2024-04-05', 500, '2024-04-10', 500),      -- 5 days: not late
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000010', 'loan', '2024-03-20', 500, '2024-03-20', 400),      -- short
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000010', 'loan', '2024-01-10', 500, NULL, 0),               -- missed
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000010', 'insurance', '2024-06-15', 300, NULL, 0),           -- due on date(as_of): in no window
  (gen_random_uuid(), 'e0000000-0000-0000-0000-000000000010', 'credit_card', '2023-12-17', 300, NULL, 0);         -- 181 days: out of every window

-- E1, as of 2024-06-15 12:00: d = 06-10, no salary: delay 5, deviation -100,
-- missed 5 (d_1..d_5 are on or after 2024-01-01, d_6 = 2023-12-10 is not);
-- balance 500 < min 1000 all 30 days; both category vectors zero: 1.
-- composite (0.5 + 0 + 1 + 0 + 0 + 0) / 6 = 0.25; anomalies: delay, missed, below.
SELECT * FROM pg_temp.show('e0000000-0000-0000-0000-000000000001', '2024-06-15 12:00+00');

-- E2: as E1 but failed_autodebit 1, failed 3 (the ATM one is older than
-- 30 days), inactive 27 (three days with a failed transaction);
-- composite (0.5 + 1 + 1/3) / 6 = 0.305556; anomalies 4.
SELECT * FROM pg_temp.show('e0000000-0000-0000-0000-000000000002', '2024-06-15 12:00+00');

-- E3: balance -200 then -300: drawdowns 100*100/max(-200, 1000) = 10;
-- six balances of -300 and 24 of -200: stddev 40 / 1000 = 0.04; all 30
-- below 0; essential 100 vs 0 -> 0; cosine 0 (one vector zero);
-- composite (1 + 0.2 + 1) / 6 = 0.366667; anomalies: delay 14, missed 5, below 30.
SELECT * FROM pg_temp.show('e0000000-0000-0000-0000-000000000003', '2024-06-15 12:00+00');

-- E4: delay 0 (a credit at exactly d - 5 days), deviation +10 (the larger
-- of the two at the same time), missed 3 (d_3, d_4, d_6).
SELECT * FROM pg_temp.show('e0000000-0000-0000-0000-000000000004', '2025-02-27 06:00+00') WHERE n <= 3;
-- E5: 3 (nothing in [2025-02-24, as_of)); E6: 0; E7: 2 (paid on 03-03)
SELECT c, (customer_features(c, '2025-03-04 00:00+00')).salary_delay_days
FROM (VALUES ('e0000000-0000-0000-0000-000000000005'::uuid),
             ('e0000000-0000-0000-0000-000000000006'), ('e0000000-0000-0000-0000-000000000007')) v(c);
-- E8 on 2024-02-28 (leap year, d = 2024-02-28): delay 0; d_1 = 01-28 paid,
-- d_2 = 2023-12-28 paid on 12-30, d_3 = 2023-11-28 is after opening
-- (2023-11-15) and unpaid, d_4.. before opening: missed 1.
-- On 2024-02-27 (d = 2024-01-28, paid that day): delay 0, missed 1 again
-- (d_1 = 12-28 paid, d_2 = 11-28 unpaid, d_3 = 10-28 before opening).
SELECT t, (f).salary_delay_days, (f).salary_missed_count_180d
FROM (SELECT t, customer_features('e0000000-0000-0000-0000-000000000008', t) f
      FROM (VALUES ('2024-02-28 10:00+00'::timestamptz), ('2024-02-27 10:00+00')) v(t)) s;

-- E9: the debit at as_of counts nowhere; one at a window's start counts in it.
-- 7d drop: 100 (7*330 - 30*70) / (7*330) = 9.090909; 30d drop: 370 vs 630/3
-- -> -76.190476; total +76.190476; average 185 vs 315 -> -41.269841;
-- merchants 2 vs 1 -> -100; weekend 70 vs 0 -> 0; spend/income 0.123333;
-- frequency 2 vs 2/3 -> -200; inactive 28; drawdowns 7000/8070 = 0.867410
-- and 37000/8370 = 4.420550; volatility of 7 x 8000 and 23 x 8070: 0.009869.
SELECT * FROM pg_temp.show('e0000000-0000-0000-0000-000000000009', '2024-06-15 12:00+00');

-- E10: lateness (5 + 2 + 0) / 3 = 2.333333; loan late 3 (5 days is not late);
-- partial 1; timing shift 2 - (0 + 6 + 5 + 0) / 4 = -0.75;
-- undershoot 200 / 2700 = 7.407407.
SELECT * FROM pg_temp.show('e0000000-0000-0000-0000-000000000010', '2024-06-15 12:00+00') WHERE n BETWEEN 17 AND 21;

-- No leak: rows at or after as_of change nothing. In a transaction per
-- as_of: snapshot, add the future (transactions at and after as_of, loans
-- due from date(as_of) on, unpaid bills paid on date(as_of)), compare, undo.
\set leak_check 'CREATE TEMP TABLE before AS SELECT customer_id, customer_features(customer_id, :''t'') f FROM customers; INSERT INTO transactions SELECT gen_random_uuid(), c.customer_id, :''t''::timestamptz + s * interval ''1 hour'', 777, k, cat, ch, NULL, fail FROM customers c, generate_series(0, 2) s, (VALUES (''credit'', ''salary'', ''netbanking'', false), (''debit'', ''atm'', ''atm'', false), (''debit'', ''utilities'', ''autodebit'', true)) k(k, cat, ch, fail); INSERT INTO payments SELECT gen_random_uuid(), customer_id, ''loan'', (:''t''::timestamptz AT TIME ZONE ''UTC'')::date + s, 100, NULL, 0 FROM customers, generate_series(0, 3) s; UPDATE payments SET paid_date = (:''t''::timestamptz AT TIME ZONE ''UTC'')::date, amount_paid = amount_due WHERE paid_date IS NULL AND due_date < (:''t''::timestamptz AT TIME ZONE ''UTC'')::date;'
BEGIN;
\set t '2024-06-15 12:00+00'
:leak_check
SELECT count(*) AS compared, count(*) FILTER (WHERE b.f IS DISTINCT FROM customer_features(b.customer_id, :'t')) AS changed
FROM before b;
ROLLBACK;
BEGIN;
\set t '2025-03-04 00:00+00'
:leak_check
SELECT count(*) AS compared, count(*) FILTER (WHERE b.f IS DISTINCT FROM customer_features(b.customer_id, :'t')) AS changed
FROM before b;
ROLLBACK;

-- Same answers whatever the session's TimeZone
CREATE TEMP TABLE utc AS
SELECT c.customer_id, t, customer_features(c.customer_id, t) f
FROM customers c, (VALUES ('2024-06-15 12:00+00'::timestamptz), ('2025-02-27 06:00+00'),
                          ('2025-03-04 00:00+00'), ('2024-02-28 10:00+00')) v(t);
SET TimeZone = 'Asia/Kolkata';
SELECT count(*) AS compared, count(*) FILTER (WHERE u.f IS DISTINCT FROM customer_features(u.customer_id, u.t)) AS changed_in_kolkata
FROM utc u;
SET TimeZone = 'America/Los_Angeles';
SELECT count(*) FILTER (WHERE u.f IS DISTINCT FROM customer_features(u.customer_id, u.t)) AS changed_in_los_angeles
FROM utc u;
RESET TimeZone;

-- Bad input: a clear error, never a crash
SELECT customer_features('e0000000-0000-0000-0000-0000000000ff', '2024-06-15');
SELECT customer_features(NULL, '2024-06-15');
SELECT customer_features('e0000000-0000-0000-0000-000000000001', NULL);
SELECT customer_features('e0000000-0000-0000-0000-000000000001', 'infinity');
SELECT customer_features('e0000000-0000-0000-0000-000000000001', '4714-12-01 BC');

DELETE FROM customers WHERE customer_id::text LIKE 'e0000000-%';
