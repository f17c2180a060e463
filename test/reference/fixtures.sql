-- Hand-made fixture customers for the edge cases of FEATURES.md.
--
-- Twelve customers with fixed ids f1c5e000-0000-4000-8000-0000000000NN
-- (NN = 01..11), each built for a few edge cases; the values FEATURES.md
-- requires, computed by hand, are in fixtures_expected.sql (with the
-- arithmetic in its comments). Re-runnable: the fixture customers (and, by
-- ON DELETE CASCADE, their transactions and payments) are deleted first.
-- Every timestamp is written in UTC.
--
--   psql -v ON_ERROR_STOP=1 -f test/reference/fixtures.sql

BEGIN;

DELETE FROM pre_delinquency.customers
WHERE customer_id::text LIKE 'f1c5e000-0000-4000-8000-0000000000__';

INSERT INTO pre_delinquency.customers
	(customer_id, monthly_income, salary_day, income_bracket, account_type,
	 opened_at, opening_balance, min_balance)
VALUES
	-- F01 no history at all
	('f1c5e000-0000-4000-8000-000000000001', 1000.00, 15, 'low', 'savings',
	 '2024-01-01 00:00:00+00', 500.00, 0),
	-- F02 only failed transactions; opened 2024-10-15 (feature 3 counts 4 d_k)
	('f1c5e000-0000-4000-8000-000000000002', 2000.00, 1, 'middle', 'savings',
	 '2024-10-15 00:00:00+00', 100.00, 0),
	-- F03 balances: negative balance, transactions exactly at t - 30d, t - 7d,
	-- t - 1d and at t, one before opened_at
	('f1c5e000-0000-4000-8000-000000000003', 3000.00, 5, 'middle', 'current',
	 '2020-01-01 00:00:00+00', 1000.00, 350.00),
	-- F04 salary edges: credit exactly at d - 5 days 00:00, one second before
	-- it, late salary, equal times, d_k window ends, UTC dates, DST window
	('f1c5e000-0000-4000-8000-000000000004', 4000.00, 10, 'middle', 'savings',
	 '2024-01-01 00:00:00+00', 0, 0),
	-- F05 salary_day 28, as_of in February (2025 and leap 2024)
	('f1c5e000-0000-4000-8000-000000000005', 5000.00, 28, 'high', 'savings',
	 '2023-01-01 00:00:00+00', 0, 0),
	-- F06 salary_day 1, salary exactly at as_of, opened recently
	('f1c5e000-0000-4000-8000-000000000006', 1000.00, 1, 'low', 'savings',
	 '2024-12-15 10:00:00+00', 0, 0),
	-- F07 spending, cash, activity: thresholds hit exactly (30 %, 20 %, 0.3,
	-- 30 %), window edges t - 7d, t - 30d, t - 120d, weekend in UTC
	('f1c5e000-0000-4000-8000-000000000007', 10000.00, 1, 'high', 'current',
	 '2020-01-01 00:00:00+00', 100000.00, 0),
	-- F08 payments: paid on date(as_of), partial, late, early, overpaid,
	-- bill lateness exactly 5, loan 5 vs 6 days late
	('f1c5e000-0000-4000-8000-000000000008', 2000.00, 1, 'middle', 'savings',
	 '2020-01-01 00:00:00+00', 5000.00, 0),
	-- F09 the label: missed, 5 vs 6 days late, short, early, overpaid
	('f1c5e000-0000-4000-8000-000000000009', 1000.00, 1, 'low', 'savings',
	 '2020-01-01 00:00:00+00', 0, 0),
	-- F10 opened recently, at 23:30 UTC (another date in Asia/Kolkata)
	('f1c5e000-0000-4000-8000-000000000010', 3000.00, 20, 'middle', 'savings',
	 '2025-01-20 23:30:00+00', 0, 0),
	-- F11 a huge balance (numerically stable variance)
	('f1c5e000-0000-4000-8000-000000000011', 100.00, 1, 'high', 'current',
	 '2020-01-01 00:00:00+00', 900000000000.00, 0),
	-- F12 the other window edges: t - 40d (feature 2), t - 37d (9),
	-- t - 60d (13), due dates date(t) - 30, - 120, - 180 (17, 18, 20)
	('f1c5e000-0000-4000-8000-000000000012', 1000.00, 5, 'low', 'savings',
	 '2020-01-01 00:00:00+00', 10000.00, 0);

INSERT INTO pre_delinquency.transactions
	(event_id, customer_id, txn_time, amount, txn_type, category, channel, merchant_id, is_failed)
VALUES
	-- F02: only failed transactions
	(md5('F02-a')::uuid, 'f1c5e000-0000-4000-8000-000000000002', '2025-02-28 10:00:00+00', 2000.00, 'credit', 'salary', 'netbanking', NULL, true),
	(md5('F02-b')::uuid, 'f1c5e000-0000-4000-8000-000000000002', '2025-02-20 08:00:00+00', 150.00, 'debit', 'utilities', 'autodebit', NULL, true),
	(md5('F02-c')::uuid, 'f1c5e000-0000-4000-8000-000000000002', '2025-01-15 19:00:00+00', 40.00, 'debit', 'dining', 'card', 'm1', true),
	(md5('F02-d')::uuid, 'f1c5e000-0000-4000-8000-000000000002', '2025-02-10 13:00:00+00', 60.00, 'debit', 'shopping', 'upi', 'm2', true),

	-- F03: as_of 2025-04-15 12:00 UTC
	(md5('F03-pre')::uuid, 'f1c5e000-0000-4000-8000-000000000003', '2019-06-01 00:00:00+00', 500.00, 'credit', 'transfer_in', 'branch', NULL, false),
	(md5('F03-D1')::uuid, 'f1c5e000-0000-4000-8000-000000000003', '2025-03-16 12:00:00+00', 1200.00, 'debit', 'transfer_out', 'netbanking', NULL, false),
	(md5('F03-C1')::uuid, 'f1c5e000-0000-4000-8000-000000000003', '2025-04-01 06:00:00+00', 100.00, 'credit', 'refund', 'card', NULL, false),
	(md5('F03-D2')::uuid, 'f1c5e000-0000-4000-8000-000000000003', '2025-04-08 12:00:00+00', 800.00, 'debit', 'rent', 'netbanking', NULL, false),
	(md5('F03-F')::uuid, 'f1c5e000-0000-4000-8000-000000000003', '2025-04-10 00:00:00+00', 10000.00, 'debit', 'loan_payment', 'autodebit', NULL, true),
	(md5('F03-D3')::uuid, 'f1c5e000-0000-4000-8000-000000000003', '2025-04-14 12:00:00+00', 900.00, 'debit', 'shopping', 'online', NULL, false),
	(md5('F03-X')::uuid, 'f1c5e000-0000-4000-8000-000000000003', '2025-04-15 12:00:00+00', 5000.00, 'debit', 'other', 'branch', NULL, false),

	-- F04: salary credits (S*, H*) and one failed debit
	(md5('F04-S1')::uuid, 'f1c5e000-0000-4000-8000-000000000004', '2025-03-05 00:00:00+00', 3800.00, 'credit', 'salary', 'netbanking', NULL, false),
	(md5('F04-S2')::uuid, 'f1c5e000-0000-4000-8000-000000000004', '2025-04-04 23:59:59+00', 4200.00, 'credit', 'salary', 'netbanking', NULL, false),
	(md5('F04-S3')::uuid, 'f1c5e000-0000-4000-8000-000000000004', '2025-04-16 09:00:00+00', 4400.00, 'credit', 'salary', 'netbanking', NULL, false),
	(md5('F04-S3b')::uuid, 'f1c5e000-0000-4000-8000-000000000004', '2025-04-16 09:00:00+00', 4100.00, 'credit', 'salary', 'netbanking', NULL, false),
	(md5('F04-H1')::uuid, 'f1c5e000-0000-4000-8000-000000000004', '2025-02-20 23:59:59+00', 4000.00, 'credit', 'salary', 'netbanking', NULL, false),
	(md5('F04-H2')::uuid, 'f1c5e000-0000-4000-8000-000000000004', '2025-01-21 00:00:00+00', 4000.00, 'credit', 'salary', 'netbanking', NULL, false),
	(md5('F04-H3')::uuid, 'f1c5e000-0000-4000-8000-000000000004', '2024-12-05 00:00:00+00', 4000.00, 'credit', 'salary', 'netbanking', NULL, false),
	(md5('F04-H4')::uuid, 'f1c5e000-0000-4000-8000-000000000004', '2024-11-04 23:00:00+00', 4000.00, 'credit', 'salary', 'netbanking', NULL, false),
	(md5('F04-H5')::uuid, 'f1c5e000-0000-4000-8000-000000000004', '2024-10-10 12:00:00+00', 4000.00, 'credit', 'salary', 'netbanking', NULL, true),
	(md5('F04-H6')::uuid, 'f1c5e000-0000-4000-8000-000000000004', '2024-09-10 08:00:00+00', 4000.00, 'credit', 'salary', 'netbanking', NULL, false),
	(md5('F04-F')::uuid, 'f1c5e000-0000-4000-8000-000000000004', '2025-03-05 08:30:00+00', 1.00, 'debit', 'other', 'upi', NULL, true),

	-- F05: salary_day 28
	(md5('F05-1')::uuid, 'f1c5e000-0000-4000-8000-000000000005', '2025-01-31 12:00:00+00', 4500.00, 'credit', 'salary', 'netbanking', NULL, false),
	(md5('F05-2')::uuid, 'f1c5e000-0000-4000-8000-000000000005', '2025-02-23 00:00:00+00', 5500.00, 'credit', 'salary', 'netbanking', NULL, false),
	(md5('F05-3')::uuid, 'f1c5e000-0000-4000-8000-000000000005', '2024-02-27 10:00:00+00', 5000.00, 'credit', 'salary', 'netbanking', NULL, false),

	-- F06: salary_day 1
	(md5('F06-1')::uuid, 'f1c5e000-0000-4000-8000-000000000006', '2025-02-01 03:00:00+00', 1100.00, 'credit', 'salary', 'netbanking', NULL, false),
	(md5('F06-2')::uuid, 'f1c5e000-0000-4000-8000-000000000006', '2025-01-06 00:00:00+00', 1000.00, 'credit', 'salary', 'netbanking', NULL, false),
	(md5('F06-3')::uuid, 'f1c5e000-0000-4000-8000-000000000006', '2025-03-01 00:00:00+00', 1000.00, 'credit', 'salary', 'netbanking', NULL, false),

	-- F07: as_of 2025-06-15 00:00 UTC (a Sunday).
	-- R30 = [05-16 00:00, 06-15 00:00)
	(md5('F07-r1')::uuid, 'f1c5e000-0000-4000-8000-000000000007', '2025-06-10 12:00:00+00', 200.00, 'debit', 'dining', 'card', 'mA', false),
	(md5('F07-r8')::uuid, 'f1c5e000-0000-4000-8000-000000000007', '2025-06-08 00:00:00+00', 100.00, 'debit', 'entertainment', 'card', 'mE', false),
	(md5('F07-r2')::uuid, 'f1c5e000-0000-4000-8000-000000000007', '2025-05-17 02:00:00+00', 400.00, 'debit', 'shopping', 'online', 'mA', false),
	(md5('F07-r3')::uuid, 'f1c5e000-0000-4000-8000-000000000007', '2025-05-16 00:00:00+00', 600.00, 'debit', 'groceries', 'pos', 'mC', false),
	(md5('F07-r4')::uuid, 'f1c5e000-0000-4000-8000-000000000007', '2025-06-14 20:00:00+00', 900.00, 'debit', 'atm', 'atm', NULL, false),
	(md5('F07-r5')::uuid, 'f1c5e000-0000-4000-8000-000000000007', '2025-06-01 23:30:00+00', 800.00, 'debit', 'transfer_out', 'netbanking', NULL, false),
	(md5('F07-r6')::uuid, 'f1c5e000-0000-4000-8000-000000000007', '2025-06-05 09:00:00+00', 100.00, 'credit', 'transfer_in', 'netbanking', NULL, false),
	(md5('F07-rf')::uuid, 'f1c5e000-0000-4000-8000-000000000007', '2025-06-12 10:00:00+00', 999.00, 'debit', 'dining', 'card', 'mZ', true),
	(md5('F07-rx')::uuid, 'f1c5e000-0000-4000-8000-000000000007', '2025-06-15 00:00:00+00', 5000.00, 'debit', 'dining', 'card', 'mY', false),
	-- B90 = [02-15 00:00, 05-16 00:00), and one debit one second before it
	(md5('F07-b0')::uuid, 'f1c5e000-0000-4000-8000-000000000007', '2025-02-14 23:59:59+00', 777.00, 'debit', 'travel', 'online', 'mX', false),
	(md5('F07-b1')::uuid, 'f1c5e000-0000-4000-8000-000000000007', '2025-02-15 00:00:00+00', 2000.00, 'debit', 'travel', 'online', 'mA', false),
	(md5('F07-b2')::uuid, 'f1c5e000-0000-4000-8000-000000000007', '2025-05-15 23:59:59+00', 1000.00, 'debit', 'entertainment', 'card', 'mD', false),
	(md5('F07-b3')::uuid, 'f1c5e000-0000-4000-8000-000000000007', '2025-03-03 09:00:00+00', 1500.00, 'debit', 'rent', 'netbanking', NULL, false),
	(md5('F07-atm1')::uuid, 'f1c5e000-0000-4000-8000-000000000007', '2025-03-10 10:00:00+00', 300.00, 'debit', 'atm', 'atm', NULL, false),
	(md5('F07-atm2')::uuid, 'f1c5e000-0000-4000-8000-000000000007', '2025-03-20 10:00:00+00', 300.00, 'debit', 'atm', 'atm', NULL, false),
	(md5('F07-atm3')::uuid, 'f1c5e000-0000-4000-8000-000000000007', '2025-04-01 10:00:00+00', 300.00, 'debit', 'atm', 'atm', NULL, false),
	(md5('F07-atm4')::uuid, 'f1c5e000-0000-4000-8000-000000000007', '2025-04-05 10:00:00+00', 300.00, 'debit', 'atm', 'atm', NULL, false),
	(md5('F07-atm5')::uuid, 'f1c5e000-0000-4000-8000-000000000007', '2025-04-20 10:00:00+00', 300.00, 'debit', 'atm', 'atm', NULL, false),
	(md5('F07-atm6')::uuid, 'f1c5e000-0000-4000-8000-000000000007', '2025-05-05 10:00:00+00', 300.00, 'debit', 'atm', 'atm', NULL, false),

	-- F11: huge balance, one credit of 10.00
	(md5('F11-1')::uuid, 'f1c5e000-0000-4000-8000-000000000011', '2025-02-15 12:00:00+00', 10.00, 'credit', 'transfer_in', 'netbanking', NULL, false),

	-- F10: salary_day 20, opened 2025-01-20 23:30 UTC
	(md5('F10-1')::uuid, 'f1c5e000-0000-4000-8000-000000000010', '2025-02-19 10:00:00+00', 3000.00, 'credit', 'salary', 'netbanking', NULL, false),
	(md5('F10-2')::uuid, 'f1c5e000-0000-4000-8000-000000000010', '2025-04-22 10:00:00+00', 3000.00, 'credit', 'salary', 'netbanking', NULL, false),

	-- F12: as_of 2025-05-20 00:00 UTC
	(md5('F12-s0')::uuid, 'f1c5e000-0000-4000-8000-000000000012', '2025-04-09 23:59:59+00', 900.00, 'credit', 'salary', 'netbanking', NULL, false),
	(md5('F12-s1')::uuid, 'f1c5e000-0000-4000-8000-000000000012', '2025-04-10 00:00:00+00', 1200.00, 'credit', 'salary', 'netbanking', NULL, false),
	(md5('F12-m0')::uuid, 'f1c5e000-0000-4000-8000-000000000012', '2025-03-20 23:59:59+00', 50.00, 'debit', 'dining', 'card', 'mQ', false),
	(md5('F12-m1')::uuid, 'f1c5e000-0000-4000-8000-000000000012', '2025-03-21 00:00:00+00', 50.00, 'debit', 'dining', 'card', 'mP', false),
	(md5('F12-m2')::uuid, 'f1c5e000-0000-4000-8000-000000000012', '2025-04-13 00:00:00+00', 70.00, 'debit', 'shopping', 'online', 'mP', false),
	(md5('F12-m3')::uuid, 'f1c5e000-0000-4000-8000-000000000012', '2025-05-13 00:00:00+00', 30.00, 'debit', 'shopping', 'online', 'mR', false),
	(md5('F12-m4')::uuid, 'f1c5e000-0000-4000-8000-000000000012', '2025-04-20 00:00:00+00', 40.00, 'debit', 'groceries', 'pos', 'mS', false);

-- F07: 21 credits of 100.00 inside B90 (2025-02-16 .. 2025-04-17, every 3 days,
-- 08:00 UTC), so that B90 holds exactly 30 successful transactions.
INSERT INTO pre_delinquency.transactions
	(event_id, customer_id, txn_time, amount, txn_type, category, channel, merchant_id, is_failed)
SELECT md5('F07-c' || i)::uuid, 'f1c5e000-0000-4000-8000-000000000007',
       timestamptz '2025-02-16 08:00:00+00' + make_interval(hours => 72 * i),
       100.00, 'credit', 'transfer_in', 'netbanking', NULL, false
FROM generate_series(0, 20) i;

INSERT INTO pre_delinquency.payments
	(payment_id, customer_id, kind, due_date, amount_due, paid_date, amount_paid)
VALUES
	-- F08: as_of 2025-05-10 12:00 UTC
	(md5('F08-p1')::uuid, 'f1c5e000-0000-4000-8000-000000000008', 'utility', '2025-05-01', 100.00, '2025-05-10', 100.00),
	(md5('F08-p2')::uuid, 'f1c5e000-0000-4000-8000-000000000008', 'rent', '2025-04-20', 1000.00, '2025-04-26', 1000.00),
	(md5('F08-p3')::uuid, 'f1c5e000-0000-4000-8000-000000000008', 'insurance', '2025-03-01', 300.00, '2025-03-06', 150.00),
	(md5('F08-p4')::uuid, 'f1c5e000-0000-4000-8000-000000000008', 'credit_card', '2025-02-09', 200.00, '2025-02-04', 200.00),
	(md5('F08-p5')::uuid, 'f1c5e000-0000-4000-8000-000000000008', 'utility', '2025-02-08', 100.00, NULL, 0),
	(md5('F08-p6')::uuid, 'f1c5e000-0000-4000-8000-000000000008', 'utility', '2025-05-10', 100.00, NULL, 0),
	(md5('F08-p7')::uuid, 'f1c5e000-0000-4000-8000-000000000008', 'utility', '2025-04-25', 100.00, '2025-04-30', 150.00),
	(md5('F08-l1')::uuid, 'f1c5e000-0000-4000-8000-000000000008', 'loan', '2025-04-15', 500.00, '2025-04-20', 500.00),
	(md5('F08-l2')::uuid, 'f1c5e000-0000-4000-8000-000000000008', 'loan', '2025-03-15', 500.00, '2025-03-21', 500.00),
	(md5('F08-l3')::uuid, 'f1c5e000-0000-4000-8000-000000000008', 'loan', '2025-02-15', 500.00, '2025-02-15', 400.00),
	(md5('F08-l4')::uuid, 'f1c5e000-0000-4000-8000-000000000008', 'loan', '2024-12-15', 500.00, NULL, 0),
	(md5('F08-l5')::uuid, 'f1c5e000-0000-4000-8000-000000000008', 'loan', '2024-11-10', 500.00, NULL, 0),
	(md5('F08-l6')::uuid, 'f1c5e000-0000-4000-8000-000000000008', 'loan', '2025-05-05', 500.00, '2025-05-09', 500.00),
	(md5('F08-l7')::uuid, 'f1c5e000-0000-4000-8000-000000000008', 'loan', '2025-05-08', 500.00, NULL, 0),
	(md5('F08-l8')::uuid, 'f1c5e000-0000-4000-8000-000000000008', 'loan', '2025-05-15', 500.00, '2025-05-20', 500.00),

	-- F09: label
	(md5('F09-L1')::uuid, 'f1c5e000-0000-4000-8000-000000000009', 'loan', '2025-01-10', 500.00, '2025-01-15', 500.00),
	(md5('F09-L2')::uuid, 'f1c5e000-0000-4000-8000-000000000009', 'loan', '2025-02-10', 500.00, '2025-02-16', 500.00),
	(md5('F09-L3')::uuid, 'f1c5e000-0000-4000-8000-000000000009', 'loan', '2025-03-10', 500.00, '2025-03-10', 499.99),
	(md5('F09-L4')::uuid, 'f1c5e000-0000-4000-8000-000000000009', 'loan', '2025-04-10', 500.00, NULL, 0),
	(md5('F09-L5')::uuid, 'f1c5e000-0000-4000-8000-000000000009', 'loan', '2025-05-10', 500.00, '2025-05-09', 500.00),
	(md5('F09-L6')::uuid, 'f1c5e000-0000-4000-8000-000000000009', 'loan', '2025-05-25', 500.00, '2025-05-25', 600.00),
	(md5('F09-U1')::uuid, 'f1c5e000-0000-4000-8000-000000000009', 'utility', '2025-06-15', 80.00, NULL, 0),

	-- F12: as_of 2025-05-20 00:00 UTC
	(md5('F12-q1')::uuid, 'f1c5e000-0000-4000-8000-000000000012', 'utility', '2025-04-20', 100.00, '2025-04-22', 100.00),
	(md5('F12-q2')::uuid, 'f1c5e000-0000-4000-8000-000000000012', 'utility', '2025-04-19', 100.00, '2025-04-19', 100.00),
	(md5('F12-q3')::uuid, 'f1c5e000-0000-4000-8000-000000000012', 'rent', '2025-01-20', 100.00, '2025-01-30', 100.00),
	(md5('F12-q4')::uuid, 'f1c5e000-0000-4000-8000-000000000012', 'rent', '2025-01-19', 100.00, '2025-01-19', 100.00),
	(md5('F12-q5')::uuid, 'f1c5e000-0000-4000-8000-000000000012', 'loan', '2024-11-21', 500.00, NULL, 0),
	(md5('F12-q6')::uuid, 'f1c5e000-0000-4000-8000-000000000012', 'loan', '2024-11-20', 500.00, NULL, 0),
	(md5('F12-q7')::uuid, 'f1c5e000-0000-4000-8000-000000000012', 'loan', '2025-05-20', 500.00, '2025-05-26', 500.00),
	(md5('F12-q8')::uuid, 'f1c5e000-0000-4000-8000-000000000012', 'loan', '2025-06-18', 500.00, '2025-06-18', 500.00);

COMMIT;
