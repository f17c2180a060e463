-- An adversarial random bank for the cross-check (not realistic: made to hit
-- edges). Many transactions sit exactly on midnights and whole hours, so the
-- as_of times crosscheck.sql chooses (from max(txn_time) = 2025-06-30 00:00)
-- put transactions exactly on window edges; salary credits land around the
-- salary day, sometimes twice at the same time; balances go negative or are
-- huge; payments are early, late, partial, overpaid, missed, paid on odd days.
--
--   psql -X -v ON_ERROR_STOP=1 [-v n=200] [-v seed=0.42] -f test/reference/random_bank.sql
--
-- Replaces the customers whose id is md5('rb' || i) (i = 1..n); other data is
-- left alone. Deterministic for a given n and seed.

\if :{?n}
\else
\set n 200
\endif
\if :{?seed}
\else
\set seed 0.42
\endif
\set QUIET on
SET client_min_messages = warning;

BEGIN;
SELECT setseed(:seed) \gset rb_

DELETE FROM pre_delinquency.customers
WHERE customer_id IN (SELECT md5('rb' || i)::uuid FROM generate_series(1, :n) i);

CREATE TEMP TABLE rb_cust ON COMMIT DROP AS
SELECT md5('rb' || i)::uuid AS customer_id,
       i,
       round((300 + random() * 15000)::numeric, 2) AS monthly_income,
       (1 + floor(random() * 28))::smallint AS salary_day,
       CASE WHEN random() < 0.2 THEN timestamptz '2025-03-01 23:30:00+00' - make_interval(days => floor(random() * 60)::int)
            ELSE timestamptz '2024-01-01 00:00:00+00' + make_interval(secs => floor(random() * 44000000)) END AS opened_at,
       CASE WHEN random() < 0.05 THEN 900000000000.00
            WHEN random() < 0.2 THEN round((-2000 + random() * 2000)::numeric, 2)
            ELSE round((random() * 50000)::numeric, 2) END AS opening_balance,
       CASE WHEN random() < 0.3 THEN 0 ELSE round((random() * 5000)::numeric, 2) END AS min_balance,
       random() AS activity
FROM generate_series(1, :n) i;

INSERT INTO pre_delinquency.customers
	(customer_id, monthly_income, salary_day, income_bracket, account_type, opened_at,
	 opening_balance, min_balance)
SELECT customer_id, monthly_income, salary_day, 'random', 'random', opened_at,
       opening_balance, min_balance
FROM rb_cust;

-- Salary: one credit per month from 2024-06 to 2025-06 around the salary day
-- (-7 .. +14 days), often at midnight; some months missing, some doubled
-- (same time, different amount), some failed.
CREATE TEMP TABLE rb_sal ON COMMIT DROP AS
SELECT c.customer_id, c.monthly_income, m, r1, r2, r3, r4
FROM rb_cust c,
     generate_series(date '2024-06-01', date '2025-06-01', interval '1 month') m,
     LATERAL (SELECT random() AS r1, random() AS r2, random() AS r3, random() AS r4
              WHERE c.customer_id IS NOT NULL AND m IS NOT NULL) r
WHERE r1 > 0.1;

INSERT INTO pre_delinquency.transactions
	(event_id, customer_id, txn_time, amount, txn_type, category, channel, merchant_id, is_failed)
SELECT gen_random_uuid(), s.customer_id, x.tm,
       CASE WHEN k = 1 THEN round(s.monthly_income * (0.7 + 0.5 * s.r3)::numeric, 2)
            ELSE round(s.monthly_income * 0.5, 2) END,
       'credit', 'salary', 'netbanking', NULL, s.r4 < 0.05 AND k = 1
FROM rb_sal s
JOIN rb_cust c USING (customer_id)
CROSS JOIN LATERAL (
	SELECT ((s.m::date + c.salary_day - 1 + floor(-7 + s.r2 * 22)::int)::timestamp AT TIME ZONE 'UTC')
	       + CASE WHEN s.r3 < 0.5 THEN interval '0' ELSE make_interval(hours => floor(s.r3 * 24)::int) END AS tm
) x
CROSS JOIN generate_series(1, CASE WHEN s.r4 > 0.9 THEN 2 ELSE 1 END) k
WHERE x.tm < timestamptz '2025-06-30 00:00:00+00';

-- Everyday transactions between 2024-09-01 and 2025-06-30.
INSERT INTO pre_delinquency.transactions
	(event_id, customer_id, txn_time, amount, txn_type, category, channel, merchant_id, is_failed)
SELECT gen_random_uuid(), c.customer_id, x.tm, x.amount,
       CASE WHEN x.cat IN ('transfer_in', 'refund') THEN 'credit' ELSE 'debit' END,
       x.cat, x.channel,
       CASE WHEN x.cat IN ('transfer_in', 'refund', 'atm', 'transfer_out') OR random() < 0.25 THEN NULL
            ELSE 'm' || floor(random() * 25)::int END,
       random() < 0.06
FROM rb_cust c
CROSS JOIN LATERAL generate_series(1, (150 + c.activity * 650)::int) g
CROSS JOIN LATERAL (
	SELECT
		-- time: 35 % at midnight, 25 % at a whole hour, else anywhere
		(timestamptz '2024-09-01 00:00:00+00'
		 + CASE WHEN r.a < 0.35 THEN make_interval(days => floor(r.b * 302)::int)
		        WHEN r.a < 0.60 THEN make_interval(hours => floor(r.b * 302 * 24)::int)
		        ELSE make_interval(secs => floor(r.b * 302 * 86400 * 1000) / 1000.0) END) AS tm,
		CASE WHEN r.c < 0.2 THEN ((1 + floor(r.d * 50)) * 20)::numeric(14,2)
		     ELSE round((0.01 + r.d * r.d * 3000)::numeric, 2) END AS amount,
		(ARRAY['transfer_in', 'refund', 'groceries', 'utilities', 'rent', 'insurance',
		       'healthcare', 'dining', 'entertainment', 'shopping', 'travel', 'transport',
		       'education', 'loan_payment', 'atm', 'transfer_out', 'other', 'groceries',
		       'dining', 'shopping', 'atm', 'transfer_in'])[1 + floor(r.e * 22)::int] AS cat,
		(ARRAY['pos', 'card', 'online', 'upi', 'netbanking', 'atm', 'branch',
		       'autodebit'])[1 + floor(r.f * 8)::int] AS channel
	FROM (SELECT random() AS a, random() AS b, random() AS c, random() AS d, random() AS e,
	             random() AS f WHERE g IS NOT NULL) r
) x
WHERE x.tm < timestamptz '2025-06-30 00:00:00+00';

-- ATM debits mostly through the atm channel.
UPDATE pre_delinquency.transactions SET channel = 'atm'
WHERE category = 'atm' AND customer_id IN (SELECT customer_id FROM rb_cust) AND random() < 0.8;

-- max(txn_time) = 2025-06-30 00:00 exactly.
INSERT INTO pre_delinquency.transactions
	(event_id, customer_id, txn_time, amount, txn_type, category, channel, merchant_id, is_failed)
SELECT gen_random_uuid(), customer_id, '2025-06-30 00:00:00+00', 10.00, 'debit', 'dining',
       'card', 'm1', false
FROM rb_cust WHERE i = 1;

-- Payments: a monthly loan and one or two bills per customer, due from
-- 2024-09 to 2025-08, with every kind of outcome.
INSERT INTO pre_delinquency.payments
	(payment_id, customer_id, kind, due_date, amount_due, paid_date, amount_paid)
SELECT gen_random_uuid(), c.customer_id, k.kind, x.due,
       x.amount_due,
       CASE WHEN x.outcome < 0.12 THEN NULL ELSE x.due + x.delay END,
       CASE WHEN x.outcome < 0.12 THEN 0
            WHEN x.outcome < 0.22 THEN round(x.amount_due * (0.1 + 0.8 * random())::numeric, 2)
            WHEN x.outcome < 0.27 THEN x.amount_due + 5
            ELSE x.amount_due END
FROM rb_cust c
CROSS JOIN LATERAL (VALUES ('loan'),
                           ((ARRAY['utility', 'rent', 'insurance', 'credit_card'])[1 + (c.i % 4)]),
                           (CASE WHEN c.activity < 0.5 THEN 'utility' END)) k(kind)
CROSS JOIN LATERAL generate_series(date '2024-09-01', date '2025-08-01', interval '1 month') m
CROSS JOIN LATERAL (
	SELECT (m::date + floor(random() * 28)::int) AS due,
	       round((20 + random() * 1500)::numeric, 2) AS amount_due,
	       random() AS outcome,
	       floor(-6 + random() * random() * 25)::int AS delay
	WHERE k.kind IS NOT NULL AND m IS NOT NULL
) x;

COMMIT;
\set QUIET off
SELECT count(DISTINCT c.customer_id) AS customers,
       (SELECT count(*) FROM pre_delinquency.transactions t
        WHERE t.customer_id IN (SELECT md5('rb' || i)::uuid FROM generate_series(1, :n) i)) AS transactions,
       (SELECT count(*) FROM pre_delinquency.payments p
        WHERE p.customer_id IN (SELECT md5('rb' || i)::uuid FROM generate_series(1, :n) i)) AS payments
FROM pre_delinquency.customers c
WHERE c.customer_id IN (SELECT md5('rb' || i)::uuid FROM generate_series(1, :n) i);
