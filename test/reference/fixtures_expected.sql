-- Hand-computed values of FEATURES.md for the fixtures of fixtures.sql, and the
-- check of an implementation against them.
--
--   psql -X -v ON_ERROR_STOP=1 -f test/reference/fixtures.sql
--   psql -X -v ON_ERROR_STOP=1 -f test/reference/fixtures_expected.sql                      # pd_ref
--   psql -X -v ON_ERROR_STOP=1 -v impl=pre_delinquency -f test/reference/fixtures_expected.sql # the C engine
--
-- :impl is the schema holding customer_features(uuid, timestamptz) and
-- customer_label(uuid, timestamptz) (default pd_ref). Every case is evaluated
-- with the session TimeZone set to UTC, Asia/Kolkata and America/Los_Angeles
-- (results must not change). Ends with a verdict line; raises an error when
-- any value differs (tolerance of FEATURES.md: 1e-9 absolute or 1e-6
-- relative to the larger).
--
-- Notation in the comments: t = as_of, dt = date(t), R30 = [t-30d, t),
-- B90 = [t-120d, t-30d), bal(x) as in FEATURES.md. A case marked complete
-- lists every non-zero feature: the features it does not list must be 0.

\if :{?impl}
\else
\set impl pd_ref
\endif
\set QUIET on
SET client_min_messages = warning;

CREATE FUNCTION pg_temp.fx(n integer) RETURNS uuid LANGUAGE sql IMMUTABLE
RETURN ('f1c5e000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid;

DROP TABLE IF EXISTS pg_temp.fx_case, pg_temp.fx_feat, pg_temp.fx_label, pg_temp.fx_actual,
	pg_temp.fx_actual_label;
CREATE TEMP TABLE fx_case (cust integer, as_of timestamptz, complete boolean,
                           PRIMARY KEY (cust, as_of));
CREATE TEMP TABLE fx_feat (cust integer, as_of timestamptz, feature text, expected numeric,
                           PRIMARY KEY (cust, as_of, feature));
CREATE TEMP TABLE fx_label (cust integer, as_of timestamptz, expected integer,
                            PRIMARY KEY (cust, as_of));

-- ---------------------------------------------------------------------------
-- F01, no history at all. income 1000, salary_day 15, opened 2024-01-01,
-- opening 500, min 0. t = 2025-03-10 12:00, dt = 03-10, d = 2025-02-15.
--  1: no salary: dt - d = 13 (Feb 15..28) + 10 = 23.   2: none: -100.
--  3: d_k = 2025-01-15, 2024-12-15, 11-15, 10-15, 09-15, 08-15, all after
--     opened_at, none covered: 6.
--  4-8: bal = 500 everywhere, 500 < 0 never: 0.   28: 30 empty days.
-- 29: both vectors zero: 1.   30: (min(1, 23/10) + 0 + 0 + 0 + 0 + 0)/6 = 1/6.
-- 31: delay 23 > 3, missed 6 >= 1: 2.   label: no loan: NULL.
INSERT INTO fx_case VALUES (1, '2025-03-10 12:00:00+00', true);
INSERT INTO fx_feat VALUES
	(1, '2025-03-10 12:00:00+00', 'salary_delay_days', 23),
	(1, '2025-03-10 12:00:00+00', 'salary_amount_deviation_pct', -100),
	(1, '2025-03-10 12:00:00+00', 'salary_missed_count_180d', 6),
	(1, '2025-03-10 12:00:00+00', 'inactive_days_30d', 30),
	(1, '2025-03-10 12:00:00+00', 'behavior_consistency_score', 1),
	(1, '2025-03-10 12:00:00+00', 'financial_stress_composite', 1 / 6.0),
	(1, '2025-03-10 12:00:00+00', 'behavioral_anomaly_count', 2);
INSERT INTO fx_label VALUES (1, '2025-03-10 12:00:00+00', NULL);

-- ---------------------------------------------------------------------------
-- F02, only failed transactions. income 2000, salary_day 1, opened
-- 2024-10-15, opening 100. t = 2025-03-01 00:00 = d.
-- R30 = [01-30 00:00, 03-01 00:00). Failed: salary credit 02-28 10:00,
-- utilities autodebit 02-20 08:00, dining card 01-15 (B90), shopping upi 02-10.
--  1: the failed salary does not count, none in [02-24, t): dt - d = 0.
--  3: d_k = 02-01, 01-01, 12-01, 11-01 (10-01, 09-01 are before 2024-10-15): 4.
-- 13: failed debits are not "debits": 0.   22: autodebit 02-20: 1.
-- 23: 02-28, 02-20, 02-10 in R30: 3.   27: no successful transaction: 0.
-- 28: active days j = 0 (02-28), 8 (02-20), 18 (02-10): 27.   29: 1.
-- 30: (0 + 0 + 0 + 1/3 + 0 + 0)/6 = 1/18.   31: missed >= 1, failed autodebit: 2.
INSERT INTO fx_case VALUES (2, '2025-03-01 00:00:00+00', true);
INSERT INTO fx_feat VALUES
	(2, '2025-03-01 00:00:00+00', 'salary_amount_deviation_pct', -100),
	(2, '2025-03-01 00:00:00+00', 'salary_missed_count_180d', 4),
	(2, '2025-03-01 00:00:00+00', 'failed_autodebit_count_30d', 1),
	(2, '2025-03-01 00:00:00+00', 'failed_txn_count_30d', 3),
	(2, '2025-03-01 00:00:00+00', 'inactive_days_30d', 27),
	(2, '2025-03-01 00:00:00+00', 'behavior_consistency_score', 1),
	(2, '2025-03-01 00:00:00+00', 'financial_stress_composite', 1 / 18.0),
	(2, '2025-03-01 00:00:00+00', 'behavioral_anomaly_count', 2);

-- ---------------------------------------------------------------------------
-- F03, balances. income 3000, salary_day 5, opening 1000, min 350.
-- t = 2025-04-15 12:00; t-7d = 04-08 12:00, t-14d = 04-01 12:00,
-- t-30d = 03-16 12:00, t-120d = 2024-12-16 12:00.
-- Successful: +500 on 2019-06-01 (before opened_at, counts), D1 -1200 at
-- 03-16 12:00 (= t-30d), C1 +100 at 04-01 06:00, D2 -800 rent at 04-08 12:00
-- (= t-7d), D3 -900 shopping at 04-14 12:00 (= t-1d), X -5000 at t (excluded).
-- Failed: -10000 autodebit at 04-10 00:00.
-- bal: 1500 up to D1, then 300, after C1 400, after D2 -400, after D3 -1300.
-- bal(t) = -1300; bal(t-7d) = 400 (D2 is not < t-7d); bal(t-14d) = 400;
-- bal(t-30d) = 1500 (D1 is not < t-30d).
--  4: 100*(400+1300)/max(400, 3000) = 170000/3000.   5: the same.
--  6: 100*(1500+1300)/3000 = 280000/3000.
--  7: j=0: -1300; j=1..6: -400 (j=1 is t-1d = D3's time: D3 excluded);
--     j=7..14: 400; j=15..29: 300. Sum 4000, mean 400/3, sum of squares
--     5280000: var = 176000 - 160000/9 = 1424000/9, /income 3000.
--  8: < 350: -1300, 6 x -400, 15 x 300: 22.
--  1: d = 04-05, no salary: 10.  3: 6.  16: R30 debits D1+D2+D3 = 2900 / 3000.
--  9-15, 24-27: B90 (and the 7d base) hold nothing: 0. 29: B90 zero, R30 not: 0.
-- 22, 23: 1.  28: active j = 0 (D3), 5 (failed 04-10 00:00), 6 (D2 at t-7d),
--     14 (C1), 29 (D1 at t-30d): 25.
-- 30: (1 + 1 + 1 + 1/3 + 0 + 0)/6 = 5/9.
-- 31: delay, missed, drawdown 93.3 > 30, failed autodebit, 22 > 5 days: 5.
INSERT INTO fx_case VALUES (3, '2025-04-15 12:00:00+00', true);
INSERT INTO fx_feat VALUES
	(3, '2025-04-15 12:00:00+00', 'salary_delay_days', 10),
	(3, '2025-04-15 12:00:00+00', 'salary_amount_deviation_pct', -100),
	(3, '2025-04-15 12:00:00+00', 'salary_missed_count_180d', 6),
	(3, '2025-04-15 12:00:00+00', 'balance_drawdown_7d_pct', 170000 / 3000.0),
	(3, '2025-04-15 12:00:00+00', 'balance_drawdown_14d_pct', 170000 / 3000.0),
	(3, '2025-04-15 12:00:00+00', 'balance_drawdown_30d_pct', 280000 / 3000.0),
	(3, '2025-04-15 12:00:00+00', 'balance_volatility_30d', sqrt(1424000 / 9.0) / 3000),
	(3, '2025-04-15 12:00:00+00', 'days_below_min_balance_30d', 22),
	(3, '2025-04-15 12:00:00+00', 'spend_to_income_ratio_30d', 2900 / 3000.0),
	(3, '2025-04-15 12:00:00+00', 'failed_autodebit_count_30d', 1),
	(3, '2025-04-15 12:00:00+00', 'failed_txn_count_30d', 1),
	(3, '2025-04-15 12:00:00+00', 'inactive_days_30d', 25),
	(3, '2025-04-15 12:00:00+00', 'financial_stress_composite', 5 / 9.0),
	(3, '2025-04-15 12:00:00+00', 'behavioral_anomaly_count', 5);

-- ---------------------------------------------------------------------------
-- F04, salary edges. income 4000, salary_day 10, opening 0, opened 2024-01-01.
-- Salary credits: S1 3800 at 2025-03-05 00:00:00 (= d-5 days for d = 03-10),
-- S2 4200 at 04-04 23:59:59 (one second before d-5 for d = 04-10),
-- S3 4400 and S3b 4100 both at 04-16 09:00, H1 4000 at 02-20 23:59:59,
-- H2 at 01-21 00:00, H3 at 2024-12-05 00:00, H4 at 11-04 23:00, H5 at 10-10
-- (FAILED), H6 at 09-10. Failed debit 1.00 at 2025-03-05 08:30.
--
-- A1: t = 2025-03-12 08:00, d = 03-10. (In America/Los_Angeles the 7 days
-- before t cross the DST change of 03-09: t-7d must be 03-05 08:00 UTC.)
--  1: S1 is in [03-05 00:00, t): max(0, 03-05 - 03-10) = 0.
--  2: latest in [01-31 08:00, t) is S1: 100*(3800-4000)/4000 = -5.
--  3: d_1 = 02-10 [02-05, 02-20]: H1 dated 02-20 (UTC) covers; d_2 = 01-10
--     [01-05, 01-20]: H2 dated 01-21 does not: missed; d_3 = 12-10: H3 dated
--     12-05 covers; d_4 = 11-10 [11-05, 11-20]: H4 dated 11-04: missed;
--     d_5 = 10-10: H5 failed: missed; d_6 = 09-10: H6 covers. 3.
--  7: bal(t - j) = 23800 for j = 0..7 (S1 < t-7d = 03-05 08:00), 20000 for
--     j = 8..19 (H1 < t-19d = 02-21 08:00), 16000 for j = 20..29. Mean 19680,
--     deviations 4120, 320, -3680: var = (8*4120^2 + 12*320^2 + 10*3680^2)/30
--     = 9081600, / income 4000.
-- 23: the failed debit: 1.
-- 27: R30 = [02-10 08:00, t): H1, S1 = 2; B90 = [2024-11-12 08:00, 02-10 08:00):
--     H3, H2 = 2; drop_pct(2, 2/3) = -200.
-- 28: active j = 6 (failed debit 03-05 08:30 in [t-7d, t-6d)), 7 (S1), 19 (H1): 27.
-- 29: no debits at all: 1.   30: 0.   31: missed >= 1: 1.
INSERT INTO fx_case VALUES (4, '2025-03-12 08:00:00+00', true);
INSERT INTO fx_feat VALUES
	(4, '2025-03-12 08:00:00+00', 'salary_amount_deviation_pct', -5),
	(4, '2025-03-12 08:00:00+00', 'salary_missed_count_180d', 3),
	(4, '2025-03-12 08:00:00+00', 'balance_volatility_30d', sqrt(9081600::numeric) / 4000),
	(4, '2025-03-12 08:00:00+00', 'failed_txn_count_30d', 1),
	(4, '2025-03-12 08:00:00+00', 'txn_frequency_drop_30d_pct', -200),
	(4, '2025-03-12 08:00:00+00', 'inactive_days_30d', 27),
	(4, '2025-03-12 08:00:00+00', 'behavior_consistency_score', 1),
	(4, '2025-03-12 08:00:00+00', 'behavioral_anomaly_count', 1);
-- A2: t = 2025-04-20 08:00, d = 04-10. [04-05 00:00, t) holds S3/S3b (not S2):
--  1: 04-16 - 04-10 = 6.  2: latest in [03-11 08:00, t): S3 and S3b at the same
--     time, the larger 4400: +10.  3: d_1 = 03-10 covered by S1 (03-05 = d_1-5),
--     d_2 = 02-10 by H1, d_3 = 01-10 missed, d_4 = 12-10 covered, d_5 = 11-10
--     and d_6 = 10-10 missed: 3.
-- 27: R30 = [03-21 08:00, t): S2, S3, S3b = 3; B90: H2, H1, S1 = 3: -200.
-- 30: 0.6/6 = 0.1.  31: delay 6 > 3, missed: 2.
INSERT INTO fx_case VALUES (4, '2025-04-20 08:00:00+00', false);
INSERT INTO fx_feat VALUES
	(4, '2025-04-20 08:00:00+00', 'salary_delay_days', 6),
	(4, '2025-04-20 08:00:00+00', 'salary_amount_deviation_pct', 10),
	(4, '2025-04-20 08:00:00+00', 'salary_missed_count_180d', 3),
	(4, '2025-04-20 08:00:00+00', 'balance_drawdown_30d_pct', 0),
	(4, '2025-04-20 08:00:00+00', 'days_below_min_balance_30d', 0),
	(4, '2025-04-20 08:00:00+00', 'txn_frequency_drop_30d_pct', -200),
	(4, '2025-04-20 08:00:00+00', 'financial_stress_composite', 0.1),
	(4, '2025-04-20 08:00:00+00', 'behavioral_anomaly_count', 2);
-- A3: t = 2025-04-12 00:00, d = 04-10: [04-05 00:00, t) is empty (S2 is one
-- second early): 1 = dt - d = 2.  2: latest in [03-03 00:00, t) is S2: +5.
-- 3: as A2: 3.  27: R30 = [03-13, 04-12): S2 = 1; B90 = [2024-12-13, 03-13):
-- H2, H1, S1 = 3: drop_pct(1, 1) = 0.  30: 0.2/6 = 1/30.  31: 1.
INSERT INTO fx_case VALUES (4, '2025-04-12 00:00:00+00', false);
INSERT INTO fx_feat VALUES
	(4, '2025-04-12 00:00:00+00', 'salary_delay_days', 2),
	(4, '2025-04-12 00:00:00+00', 'salary_amount_deviation_pct', 5),
	(4, '2025-04-12 00:00:00+00', 'salary_missed_count_180d', 3),
	(4, '2025-04-12 00:00:00+00', 'txn_frequency_drop_30d_pct', 0),
	(4, '2025-04-12 00:00:00+00', 'financial_stress_composite', 1 / 30.0),
	(4, '2025-04-12 00:00:00+00', 'behavioral_anomaly_count', 1);

-- ---------------------------------------------------------------------------
-- F05, salary_day 28. income 5000. Salary: 4500 at 2025-01-31 12:00, 5500 at
-- 2025-02-23 00:00:00, 5000 at 2024-02-27 10:00. Opened 2023-01-01.
-- B1 t = 2025-02-20 10:00: d = 2025-01-28; earliest in [01-23, t) is 01-31: 3.
--    2: latest in [01-11 10:00, t): 4500: -10.  3: d_k = 2024-12-28 .. 07-28: 6.
-- B2 t = 2025-03-01 10:00: d = 2025-02-28; 02-23 00:00 = d-5 days: max(0,-5) = 0.
--    2: latest 5500: +10.  3: d_1 = 01-28 covered by 01-31 (and 02-23), 5 others: 5.
-- B3 t = 2024-02-29 10:00 (leap day): d = 2024-02-28; 2024-02-27: 0.  2: 5000: 0.
--    3: d_k = 2024-01-28, 2023-12-28 .. 08-28, none covered: 6.
-- B4 t = 2025-02-28 00:00: d = 02-28 = dt; 02-23 00:00 in [02-23, t): 0. 2: +10. 3: 5.
-- B5 t = 2025-02-27 23:59:59: dt = 02-27, d = 01-28: 3.  2: 5500 (02-23): +10.  3: 6.
INSERT INTO fx_case VALUES
	(5, '2025-02-20 10:00:00+00', false), (5, '2025-03-01 10:00:00+00', false),
	(5, '2024-02-29 10:00:00+00', false), (5, '2025-02-28 00:00:00+00', false),
	(5, '2025-02-27 23:59:59+00', false);
INSERT INTO fx_feat VALUES
	(5, '2025-02-20 10:00:00+00', 'salary_delay_days', 3),
	(5, '2025-02-20 10:00:00+00', 'salary_amount_deviation_pct', -10),
	(5, '2025-02-20 10:00:00+00', 'salary_missed_count_180d', 6),
	(5, '2025-03-01 10:00:00+00', 'salary_delay_days', 0),
	(5, '2025-03-01 10:00:00+00', 'salary_amount_deviation_pct', 10),
	(5, '2025-03-01 10:00:00+00', 'salary_missed_count_180d', 5),
	(5, '2024-02-29 10:00:00+00', 'salary_delay_days', 0),
	(5, '2024-02-29 10:00:00+00', 'salary_amount_deviation_pct', 0),
	(5, '2024-02-29 10:00:00+00', 'salary_missed_count_180d', 6),
	(5, '2025-02-28 00:00:00+00', 'salary_delay_days', 0),
	(5, '2025-02-28 00:00:00+00', 'salary_amount_deviation_pct', 10),
	(5, '2025-02-28 00:00:00+00', 'salary_missed_count_180d', 5),
	(5, '2025-02-27 23:59:59+00', 'salary_delay_days', 3),
	(5, '2025-02-27 23:59:59+00', 'salary_amount_deviation_pct', 10),
	(5, '2025-02-27 23:59:59+00', 'salary_missed_count_180d', 6);

-- ---------------------------------------------------------------------------
-- F06, salary_day 1, opened 2024-12-15 10:00. Salary: 1100 at 2025-02-01 03:00,
-- 1000 at 2025-01-06 00:00, 1000 at 2025-03-01 00:00:00.
-- C1 t = 2025-03-01 00:00:00 (= the last credit: excluded). d = 03-01:
--    [02-24, t) empty: dt - d = 0.  2: latest in [01-20, t): 1100: +10.
--    3: d_1 = 02-01 covered, d_2 = 01-01 covered by 01-06 (= d_2+5); 12-01 and
--    older are before 2024-12-15: 0.  28: only 02-01 in R30: 29.
-- C2 t = 2025-03-01 00:00:01: the 03-01 credit counts: 1: 0.  2: 1000: 0.
--    3: 0.  28: 02-01 and 03-01 (j = 0): 28.
-- C3 t = 2025-01-31 12:00: d = 01-01, earliest in [2024-12-27, t) is 01-06: 5.
--    2: 1000: 0.  3: every d_k is before 2024-12-15: 0.
INSERT INTO fx_case VALUES
	(6, '2025-03-01 00:00:00+00', false), (6, '2025-03-01 00:00:01+00', false),
	(6, '2025-01-31 12:00:00+00', false);
INSERT INTO fx_feat VALUES
	(6, '2025-03-01 00:00:00+00', 'salary_delay_days', 0),
	(6, '2025-03-01 00:00:00+00', 'salary_amount_deviation_pct', 10),
	(6, '2025-03-01 00:00:00+00', 'salary_missed_count_180d', 0),
	(6, '2025-03-01 00:00:00+00', 'inactive_days_30d', 29),
	(6, '2025-03-01 00:00:01+00', 'salary_delay_days', 0),
	(6, '2025-03-01 00:00:01+00', 'salary_amount_deviation_pct', 0),
	(6, '2025-03-01 00:00:01+00', 'salary_missed_count_180d', 0),
	(6, '2025-03-01 00:00:01+00', 'inactive_days_30d', 28),
	(6, '2025-01-31 12:00:00+00', 'salary_delay_days', 5),
	(6, '2025-01-31 12:00:00+00', 'salary_amount_deviation_pct', 0),
	(6, '2025-01-31 12:00:00+00', 'salary_missed_count_180d', 0);

-- ---------------------------------------------------------------------------
-- F07, spending. income 10000, salary_day 1 (no salary), opening 100000.
-- t = 2025-06-15 00:00 (Sunday). R30 = [05-16, 06-15), B90 = [02-15, 05-16),
-- 7d = [06-08, 06-15), its base [05-09, 06-08), merchants' base [04-16, 05-16).
-- R30 successful: r1 dining 200 mA 06-10 (Tue); r8 entertainment 100 mE
--   06-08 00:00 (= t-7d, Sun); r2 shopping 400 mA 05-17 02:00 (Sat UTC, Fri in
--   Los Angeles); r3 groceries 600 mC 05-16 00:00 (= t-30d, Fri); r4 atm/atm 900
--   06-14 20:00 (Sat); r5 transfer_out 800 06-01 23:30 (Sun UTC, Mon in
--   Kolkata); r6 credit 100 06-05. Failed: dining 999 mZ 06-12 (card).
--   At t: dining 5000 (excluded).
-- B90 successful: b1 travel 2000 mA 02-15 00:00 (= t-120d, Sat); b2
--   entertainment 1000 mD 05-15 23:59:59 (Thu); b3 rent 1500 03-03; six atm/atm
--   300 on 03-10, 03-20, 04-01, 04-05 (Sat), 04-20 (Sun), 05-05; 21 credits
--   of 100. Before B90: travel 777 at 02-14 23:59:59 (excluded).
--  1: d = 06-01, no salary: 14.  2: -100.  3: 6.
--  bal(t) = 100000 + 2100 + 100 - (777 + 6300 + 3000) = 92123.
--  4: flow in [t-7d, t) = -200-100-900: bal(t-7d) = 93323: 100*1200/93323.
--  5: flow in [t-14d, t) = -200-100-900-800+100: 94023: 100*1900/94023.
--  6: flow in R30 = -3000+100: 95023: 100*2900/95023.
--  7: bal(t-j): j=0: 92123; j=1..4: 93023; j=5,6: 93223; j=7..9: 93323;
--     j=10..13: 93223; j=14..28: 94023; j=29: 94423. With offsets from 93000
--     (-877, 23 x4, 223 x6, 323 x3, 1023 x15, 1423): sum 18290, sum of squares
--     19105470; var = (30*19105470 - 18290^2)/900 = 238640000/900, / 10000.
--  9: drop_pct(300, 1400*7/30) = 100*(9800-9000)/9800 = 400/49.
-- 10: drop_pct(700, 3000/3) = 30 exactly.  11: change_pct(600, 1500/3) = 20 exactly.
-- 12: change_pct(3000, 6300/3) = 300/7.
-- 13: R30 merchants {mA, mE, mC} = 3; [04-16, 05-16): {mD} = 1: drop_pct(3, 1) = -200.
-- 14: averages 3000/6 = 500 and 6300/9 = 700: -200/7.
-- 15: weekend R30: r8+r2+r4+r5 = 2200; B90: b1+300+300 = 2600:
--     100*(2600 - 6600)/2600 = -2000/13.
-- 16: 3000/10000.  23: 1 (failed card).  24: change_pct(1, 6/3) = -50.
-- 25: change_pct(900, 300) = 200.  26: 900/3000 = 0.3 exactly.
-- 27: 7 successful in R30, 30 in B90: drop_pct(7, 10) = 30 exactly.
-- 28: active days 06-14, 06-12, 06-10, 06-08, 06-05, 06-01, 05-17, 05-16: 22.
-- 29: R30 (dining 200, entertainment 100, shopping 400, groceries 600, atm 900,
--     transfer_out 800), B90 (travel 2000, entertainment 1000, rent 1500,
--     atm 1800): dot 100000 + 1620000, norms^2 2020000 and 10490000.
-- 30: (1 + (2900*100/95023)/50 + 0 + 0 + 0 + 0.3/0.5)/6.
-- 31: delay 14 > 3, missed 6; the four exact thresholds (30, 20, 30, 0.3) do
--     not count: 2.
INSERT INTO fx_case VALUES (7, '2025-06-15 00:00:00+00', true);
INSERT INTO fx_feat VALUES
	(7, '2025-06-15 00:00:00+00', 'salary_delay_days', 14),
	(7, '2025-06-15 00:00:00+00', 'salary_amount_deviation_pct', -100),
	(7, '2025-06-15 00:00:00+00', 'salary_missed_count_180d', 6),
	(7, '2025-06-15 00:00:00+00', 'balance_drawdown_7d_pct', 120000 / 93323.0),
	(7, '2025-06-15 00:00:00+00', 'balance_drawdown_14d_pct', 190000 / 94023.0),
	(7, '2025-06-15 00:00:00+00', 'balance_drawdown_30d_pct', 290000 / 95023.0),
	(7, '2025-06-15 00:00:00+00', 'balance_volatility_30d', sqrt(238640000::numeric) / 300000),
	(7, '2025-06-15 00:00:00+00', 'discretionary_spend_drop_7d_pct', 400 / 49.0),
	(7, '2025-06-15 00:00:00+00', 'discretionary_spend_drop_30d_pct', 30),
	(7, '2025-06-15 00:00:00+00', 'essential_spend_increase_pct', 20),
	(7, '2025-06-15 00:00:00+00', 'total_spend_change_30d_pct', 300 / 7.0),
	(7, '2025-06-15 00:00:00+00', 'merchant_diversity_drop_pct', -200),
	(7, '2025-06-15 00:00:00+00', 'avg_txn_size_change_pct', -200 / 7.0),
	(7, '2025-06-15 00:00:00+00', 'weekend_spend_drop_pct', -2000 / 13.0),
	(7, '2025-06-15 00:00:00+00', 'spend_to_income_ratio_30d', 0.3),
	(7, '2025-06-15 00:00:00+00', 'failed_txn_count_30d', 1),
	(7, '2025-06-15 00:00:00+00', 'atm_withdrawal_count_change_pct', -50),
	(7, '2025-06-15 00:00:00+00', 'atm_withdrawal_size_increase_pct', 200),
	(7, '2025-06-15 00:00:00+00', 'cash_reliance_ratio_30d', 0.3),
	(7, '2025-06-15 00:00:00+00', 'txn_frequency_drop_30d_pct', 30),
	(7, '2025-06-15 00:00:00+00', 'inactive_days_30d', 22),
	(7, '2025-06-15 00:00:00+00', 'behavior_consistency_score',
		1720000 / sqrt(2020000::numeric * 10490000)),
	(7, '2025-06-15 00:00:00+00', 'financial_stress_composite', (1.6 + 5800 / 95023.0) / 6),
	(7, '2025-06-15 00:00:00+00', 'behavioral_anomaly_count', 2);

-- ---------------------------------------------------------------------------
-- F08, payments. income 2000, salary_day 1, opening 5000, no transactions.
-- P1 t = 2025-05-10 12:00, dt = 05-10: due in 90 = [02-09, 05-10), due in 30 =
-- [04-10, 05-10), due in 180 = [2024-11-11, 05-10), older set [01-10, 04-10).
--   p1 utility due 05-01 100, paid 05-10 (= dt: not paid as of t): late 9, pat 0
--   p2 rent 04-20 1000 paid 04-26: late 6, raw 6
--   p3 insurance 03-01 300 paid 03-06 150: late 5, partial, raw 5
--   p4 credit_card 02-09 (= dt-90, in) 200 paid 02-04: late 0, raw -5
--   p5 utility 02-08 (out of 90) unpaid;  p6 utility 05-10 (= dt, not due yet)
--   p7 utility 04-25 100 paid 04-30 150 (overpaid): late 5, raw 5
--   l1 loan 04-15 paid 04-20 (5 late, full); l2 03-15 paid 03-21 (6 late);
--   l3 02-15 paid 02-15 400/500 (short); l4 2024-12-15 unpaid; l5 2024-11-10
--   (out of 180) unpaid; l6 05-05 paid 05-09 (4 late); l7 05-08 unpaid
--   (late 2, pat 0); l8 05-15 paid 05-20 (future).
-- 17: non-loan due in 90: p1 9, p2 6, p3 5, p4 0, p7 5: 25/5 = 5 exactly.
-- 18: l2 (6 > 5), l3 (short), l4 (unpaid), l7 (pat 0 < 500); not l1 (5), l6: 4.
-- 19: p3 150/300, l3 400/500: 2.
-- 20: due in 30 and paid: p2 6, p7 5, l1 5, l6 4: 5; [01-10, 04-10) and paid:
--     p3 5, p4 -5, l2 6, l3 0: 1.5. 5 - 1.5 = 3.5.
-- 21: due in 90: sum due = 100+1000+300+200+100+5*500 = 4200; undershoot
--     p1 100 + p3 150 + l3 100 + l7 500 = 850: 100*850/4200.
-- 1: d = 05-01: 9.  3: 6.  28: 30.  29: 1.  30: (0.9 + 5/15)/6 = 37/180.
-- 31: delay 9, missed 6; lateness exactly 5 does not count: 2.
-- label: loans due in [05-10, 06-09): l8, 5 days late and full: 0.
INSERT INTO fx_case VALUES (8, '2025-05-10 12:00:00+00', true);
INSERT INTO fx_feat VALUES
	(8, '2025-05-10 12:00:00+00', 'salary_delay_days', 9),
	(8, '2025-05-10 12:00:00+00', 'salary_amount_deviation_pct', -100),
	(8, '2025-05-10 12:00:00+00', 'salary_missed_count_180d', 6),
	(8, '2025-05-10 12:00:00+00', 'bill_lateness_avg_days_90d', 5),
	(8, '2025-05-10 12:00:00+00', 'loan_late_count_180d', 4),
	(8, '2025-05-10 12:00:00+00', 'partial_payment_count_90d', 2),
	(8, '2025-05-10 12:00:00+00', 'payment_timing_shift_days', 3.5),
	(8, '2025-05-10 12:00:00+00', 'payment_undershoot_pct_90d', 85000 / 4200.0),
	(8, '2025-05-10 12:00:00+00', 'inactive_days_30d', 30),
	(8, '2025-05-10 12:00:00+00', 'behavior_consistency_score', 1),
	(8, '2025-05-10 12:00:00+00', 'financial_stress_composite', 37 / 180.0),
	(8, '2025-05-10 12:00:00+00', 'behavioral_anomaly_count', 2);
-- P2 t = 2025-05-11 00:00, dt = 05-11: p1 is now paid (05-10 < 05-11), p4
-- (02-09) leaves the 90 days, p6 (05-10) enters, unpaid, late 1.
-- 17: p1 9, p2 6, p3 5, p6 1, p7 5: 26/5 = 5.2.  18: l2, l3, l4, l7: 4.  19: 2.
-- 20: [04-11, 05-11) paid: p1 9, p2 6, p7 5, l1 5, l6 4: 29/5; [01-11, 04-11)
--     paid: p3 5, p4 -5, l2 6, l3 0: 1.5; 5.8 - 1.5 = 4.3.
-- 21: due = 100+1000+300+100+100+2500 = 4100; under = p3 150 + p6 100 +
--     l3 100 + l7 500 = 850: 100*850/4100.
-- 30: delay 10: (1 + 5.2/15)/6 = 101/450.  31: delay, missed, 5.2 > 5: 3.
INSERT INTO fx_case VALUES (8, '2025-05-11 00:00:00+00', false);
INSERT INTO fx_feat VALUES
	(8, '2025-05-11 00:00:00+00', 'salary_delay_days', 10),
	(8, '2025-05-11 00:00:00+00', 'bill_lateness_avg_days_90d', 5.2),
	(8, '2025-05-11 00:00:00+00', 'loan_late_count_180d', 4),
	(8, '2025-05-11 00:00:00+00', 'partial_payment_count_90d', 2),
	(8, '2025-05-11 00:00:00+00', 'payment_timing_shift_days', 4.3),
	(8, '2025-05-11 00:00:00+00', 'payment_undershoot_pct_90d', 85000 / 4100.0),
	(8, '2025-05-11 00:00:00+00', 'financial_stress_composite', 101 / 450.0),
	(8, '2025-05-11 00:00:00+00', 'behavioral_anomaly_count', 3);
INSERT INTO fx_label VALUES
	(8, '2025-05-10 12:00:00+00', 0),
	-- [05-05, 06-04): l6 (4 days late, full), l7 (never paid), l8: 1
	(8, '2025-05-05 00:00:00+00', 1);

-- ---------------------------------------------------------------------------
-- F09, the label. Loans: L1 due 2025-01-10 paid 01-15 (5 days: fine);
-- L2 02-10 paid 02-16 (6 days: late); L3 03-10 paid 03-10 499.99/500 (short);
-- L4 04-10 never paid; L5 05-10 paid 05-09 (early); L6 05-25 paid 600/500
-- (overpaid: fine). A utility due 06-15 is never paid (not a loan).
-- Horizon [dt, dt + 30).
INSERT INTO fx_label VALUES
	(9, '2025-01-10 00:00:00+00', 0),     -- [01-10, 02-09): L1
	(9, '2024-12-12 00:00:00+00', 0),     -- [12-12, 01-11): L1
	(9, '2024-12-11 23:59:59+00', NULL),  -- [12-11, 01-10): L1 excluded
	(9, '2024-12-11 20:00:00+00', NULL),  -- the same (Kolkata: already 12-12)
	(9, '2025-01-11 00:00:00+00', NULL),  -- [01-11, 02-10): L2 excluded
	(9, '2025-01-11 03:00:00+00', NULL),  -- the same (Los Angeles: still 01-10)
	(9, '2025-01-12 00:00:00+00', 1),     -- [01-12, 02-11): L2 6 days late
	(9, '2025-02-20 00:00:00+00', 1),     -- [02-20, 03-22): L3 short by 0.01
	(9, '2025-03-15 00:00:00+00', 1),     -- [03-15, 04-14): L4 missed
	(9, '2025-04-10 12:00:00+00', 1),     -- [04-10, 05-10): L4 missed
	(9, '2025-04-26 00:00:00+00', 0),     -- [04-26, 05-26): L5, L6
	(9, '2025-05-30 00:00:00+00', NULL);  -- [05-30, 06-29): only the utility

-- ---------------------------------------------------------------------------
-- F10, opened 2025-01-20 23:30 UTC (01-21 in Asia/Kolkata). salary_day 20,
-- income 3000. Salary 3000 at 2025-02-19 10:00 and 2025-04-22 10:00.
-- O1 t = 2025-05-25 12:00, d = 05-20: [05-15, t) empty: 5.  2: 04-22: 0.
--    3: d_k on or after 01-20: 04-20 (covered by 04-22), 03-20 (missed),
--    02-20 (covered by 02-19), 01-20 (= date(opened_at): counted, missed): 2.
-- O2 t = 2025-02-25 00:00, d = 02-20: 02-19 is in [02-15, t): max(0, -1) = 0.
--    2: 0.  3: d_1 = 01-20 missed, older d_k before opened_at: 1.
INSERT INTO fx_case VALUES
	(10, '2025-05-25 12:00:00+00', false), (10, '2025-02-25 00:00:00+00', false);
INSERT INTO fx_feat VALUES
	(10, '2025-05-25 12:00:00+00', 'salary_delay_days', 5),
	(10, '2025-05-25 12:00:00+00', 'salary_amount_deviation_pct', 0),
	(10, '2025-05-25 12:00:00+00', 'salary_missed_count_180d', 2),
	(10, '2025-02-25 00:00:00+00', 'salary_delay_days', 0),
	(10, '2025-02-25 00:00:00+00', 'salary_amount_deviation_pct', 0),
	(10, '2025-02-25 00:00:00+00', 'salary_missed_count_180d', 1);

-- ---------------------------------------------------------------------------
-- F11, a huge balance. income 100, opening 900000000000.00, one credit of 10.00
-- at 2025-02-15 12:00. t = 2025-03-01 00:00, d = 03-01.
-- 7: bal(t-j) = B+10 for j = 0..13 (t-13d = 02-16 00:00), B for j = 14..29:
--    var = 10^2 * (14/30) * (16/30) = 224/9, std = sqrt(224)/3, / 100.
-- 28: active j = 13 only: 29.  27: B90 empty: 0.  29: no debits: 1.
-- 30: 0.  31: missed 6: 1.
INSERT INTO fx_case VALUES (11, '2025-03-01 00:00:00+00', true);
INSERT INTO fx_feat VALUES
	(11, '2025-03-01 00:00:00+00', 'salary_amount_deviation_pct', -100),
	(11, '2025-03-01 00:00:00+00', 'salary_missed_count_180d', 6),
	(11, '2025-03-01 00:00:00+00', 'balance_volatility_30d', sqrt(224::numeric) / 300),
	(11, '2025-03-01 00:00:00+00', 'inactive_days_30d', 29),
	(11, '2025-03-01 00:00:00+00', 'behavior_consistency_score', 1),
	(11, '2025-03-01 00:00:00+00', 'behavioral_anomaly_count', 1);

-- ---------------------------------------------------------------------------
-- F12, the other window edges. income 1000, salary_day 5, opening 10000.
-- t = 2025-05-20 00:00: t-7d = 05-13, t-30d = 04-20, t-37d = 04-13,
-- t-40d = 04-10, t-60d = 03-21, t-120d = 01-20 (all 00:00).
-- Salary s0 900 at 04-09 23:59:59, s1 1200 at 04-10 00:00 (= t-40d).
-- Debits: m0 dining 50 mQ 03-20 23:59:59 (Thu); m1 dining 50 mP 03-21 00:00
-- (= t-60d, Fri); m2 shopping 70 mP 04-13 00:00 (= t-37d, Sun); m3 shopping 30
-- mR 05-13 00:00 (= t-7d, Tue); m4 groceries 40 mS 04-20 00:00 (= t-30d, Sun).
--  1: d = 05-05, [04-30, t) empty: 15.  2: only s1 in [t-40d, t): +20.
--  3: d_1 = 04-05 covered by s0/s1; 03-05 .. 2024-11-05 missed: 5.
--  bal(t) = 10000 + 2100 - 240 = 11860; bal(t-7d) = bal(t-14d) = 11890
--  (m3 is not < t-7d); bal(t-30d) = 11930 (m4 is not < t-30d).
--  4, 5: 100*30/11890.  6: 100*70/11930.
--  7: j = 0..6: 11860, j = 7..29: 11890: std = 30*sqrt(7/30*23/30) = sqrt(161),
--     / 1000.
--  9: 7d: m3 30; base [04-13, 05-13): m2 70: 100*(490 - 900)/490 = -4100/49.
-- 10: DISC R30 30, B90 170: 100*(170 - 90)/170 = 800/17 (> 30).
-- 12: 70 vs 170: 100*(210 - 170)/170 = 400/17.
-- 13: R30 {mR, mS} = 2; [03-21, 04-20): {mP} = 1 (mQ is one second early): -100.
-- 14: 35 vs 170/3: 100*(105 - 170)/170 = -650/17.
-- 15: weekend R30: m4 40; B90: m2 70: 100*(70 - 120)/70 = -500/7.
-- 16: 0.07.  27: R30: m3, m4 = 2; B90: s0, s1, m0, m1, m2 = 5: 100*(5-6)/5 = -20.
-- 28: active j = 6 (m3) and 29 (m4): 28.
-- 29: R30 (groceries 40, shopping 30), B90 (dining 100, shopping 70):
--     2100 / (50 * sqrt(14900)).
-- Payments, dt = 05-20: q1 utility due 04-20 (= dt-30) paid 04-22; q2 utility
-- due 04-19 paid 04-19; q3 rent due 01-20 (= dt-120) paid 01-30; q4 rent due
-- 01-19 (out); q5 loan due 2024-11-21 (= dt-180) unpaid; q6 loan due
-- 2024-11-20 (out) unpaid; q7 loan due 05-20 (= dt: not due yet) paid 05-26;
-- q8 loan due 06-18 paid on time.
-- 17: non-loan due in [02-19, 05-20): q1 2, q2 0: 1.  18: q5: 1.
-- 20: due in [04-20, 05-20): q1 2; [01-20, 04-20): q2 0, q3 10 -> 5: -3.
-- 21: q1, q2 paid in full: 0.
-- 30: (1 + (7000/11930)/50 + 0 + 0 + 1/15 + 0)/6.
-- 31: delay 15, missed 5, DISC drop 47 > 30: 3.
-- label: [05-20, 06-19): q7 6 days late: 1; at 05-21: [05-21, 06-20): q8: 0.
INSERT INTO fx_case VALUES (12, '2025-05-20 00:00:00+00', true);
INSERT INTO fx_feat VALUES
	(12, '2025-05-20 00:00:00+00', 'salary_delay_days', 15),
	(12, '2025-05-20 00:00:00+00', 'salary_amount_deviation_pct', 20),
	(12, '2025-05-20 00:00:00+00', 'salary_missed_count_180d', 5),
	(12, '2025-05-20 00:00:00+00', 'balance_drawdown_7d_pct', 3000 / 11890.0),
	(12, '2025-05-20 00:00:00+00', 'balance_drawdown_14d_pct', 3000 / 11890.0),
	(12, '2025-05-20 00:00:00+00', 'balance_drawdown_30d_pct', 7000 / 11930.0),
	(12, '2025-05-20 00:00:00+00', 'balance_volatility_30d', sqrt(161::numeric) / 1000),
	(12, '2025-05-20 00:00:00+00', 'discretionary_spend_drop_7d_pct', -4100 / 49.0),
	(12, '2025-05-20 00:00:00+00', 'discretionary_spend_drop_30d_pct', 800 / 17.0),
	(12, '2025-05-20 00:00:00+00', 'total_spend_change_30d_pct', 400 / 17.0),
	(12, '2025-05-20 00:00:00+00', 'merchant_diversity_drop_pct', -100),
	(12, '2025-05-20 00:00:00+00', 'avg_txn_size_change_pct', -650 / 17.0),
	(12, '2025-05-20 00:00:00+00', 'weekend_spend_drop_pct', -500 / 7.0),
	(12, '2025-05-20 00:00:00+00', 'spend_to_income_ratio_30d', 0.07),
	(12, '2025-05-20 00:00:00+00', 'bill_lateness_avg_days_90d', 1),
	(12, '2025-05-20 00:00:00+00', 'loan_late_count_180d', 1),
	(12, '2025-05-20 00:00:00+00', 'payment_timing_shift_days', -3),
	(12, '2025-05-20 00:00:00+00', 'txn_frequency_drop_30d_pct', -20),
	(12, '2025-05-20 00:00:00+00', 'inactive_days_30d', 28),
	(12, '2025-05-20 00:00:00+00', 'behavior_consistency_score', 2100 / (50 * sqrt(14900::numeric))),
	(12, '2025-05-20 00:00:00+00', 'financial_stress_composite',
		(1 + (7000 / 11930.0) / 50 + 1 / 15.0) / 6),
	(12, '2025-05-20 00:00:00+00', 'behavioral_anomaly_count', 3);
INSERT INTO fx_label VALUES
	(12, '2025-05-20 00:00:00+00', 1),
	(12, '2025-05-21 00:00:00+00', 0);

-- ---------------------------------------------------------------------------
-- The check
-- ---------------------------------------------------------------------------
-- The feature names, in order, from the composite type itself.
CREATE TEMP VIEW fx_names AS
SELECT a.attnum AS n, a.attname::text AS feature
FROM pg_attribute a
WHERE a.attrelid = 'pre_delinquency.features'::regclass AND a.attnum > 0 AND NOT a.attisdropped;

DO $$
BEGIN
	IF (SELECT count(*) FROM fx_names) <> 31 THEN
		RAISE EXCEPTION 'pre_delinquency.features does not have 31 columns';
	END IF;
	IF EXISTS (SELECT FROM fx_feat f WHERE f.feature NOT IN (SELECT feature FROM fx_names)) THEN
		RAISE EXCEPTION 'fixtures_expected.sql names an unknown feature';
	END IF;
	IF EXISTS (SELECT FROM fx_feat f WHERE NOT EXISTS
	           (SELECT FROM fx_case c WHERE c.cust = f.cust AND c.as_of = f.as_of)) THEN
		RAISE EXCEPTION 'fixtures_expected.sql: an expectation without its case';
	END IF;
END $$;

-- Expected values per case: listed ones, and 0 for the others of a complete case.
CREATE TEMP VIEW fx_expected AS
SELECT c.cust, c.as_of, nm.n, nm.feature, coalesce(f.expected, 0) AS expected
FROM fx_case c
CROSS JOIN fx_names nm
LEFT JOIN fx_feat f ON f.cust = c.cust AND f.as_of = c.as_of AND f.feature = nm.feature
WHERE c.complete OR f.feature IS NOT NULL;

CREATE TEMP TABLE fx_actual (tz text, cust integer, as_of timestamptz, feature text, actual float8);
CREATE TEMP TABLE fx_actual_label (tz text, cust integer, as_of timestamptz, actual integer);

SET TimeZone = 'UTC';
INSERT INTO fx_actual SELECT current_setting('TimeZone'), c.cust, c.as_of, j.key, j.value::float8
FROM fx_case c, jsonb_each_text(to_jsonb(:impl.customer_features(pg_temp.fx(c.cust), c.as_of))) j;
INSERT INTO fx_actual_label SELECT current_setting('TimeZone'), l.cust, l.as_of,
       :impl.customer_label(pg_temp.fx(l.cust), l.as_of) FROM fx_label l;
SET TimeZone = 'Asia/Kolkata';
INSERT INTO fx_actual SELECT current_setting('TimeZone'), c.cust, c.as_of, j.key, j.value::float8
FROM fx_case c, jsonb_each_text(to_jsonb(:impl.customer_features(pg_temp.fx(c.cust), c.as_of))) j;
INSERT INTO fx_actual_label SELECT current_setting('TimeZone'), l.cust, l.as_of,
       :impl.customer_label(pg_temp.fx(l.cust), l.as_of) FROM fx_label l;
SET TimeZone = 'America/Los_Angeles';
INSERT INTO fx_actual SELECT current_setting('TimeZone'), c.cust, c.as_of, j.key, j.value::float8
FROM fx_case c, jsonb_each_text(to_jsonb(:impl.customer_features(pg_temp.fx(c.cust), c.as_of))) j;
INSERT INTO fx_actual_label SELECT current_setting('TimeZone'), l.cust, l.as_of,
       :impl.customer_label(pg_temp.fx(l.cust), l.as_of) FROM fx_label l;
RESET TimeZone;

-- A missing value (NULL result, missing column) is a difference too.
CREATE TEMP VIEW fx_diff AS
SELECT z.tz, e.cust, e.as_of, e.n, e.feature, e.expected::float8 AS expected, a.actual
FROM fx_expected e
CROSS JOIN (VALUES ('UTC'), ('Asia/Kolkata'), ('America/Los_Angeles')) z(tz)
LEFT JOIN fx_actual a ON a.tz = z.tz AND a.cust = e.cust AND a.as_of = e.as_of
                     AND a.feature = e.feature
WHERE NOT (a.actual IS NOT NULL AND a.actual NOT IN ('NaN', 'Infinity', '-Infinity')
           AND (abs(a.actual - e.expected::float8) <= 1e-9
                OR abs(a.actual - e.expected::float8)
                   <= 1e-6 * greatest(abs(a.actual), abs(e.expected::float8))));

CREATE TEMP VIEW fx_label_diff AS
SELECT a.tz, l.cust, l.as_of, l.expected, a.actual
FROM fx_label l JOIN fx_actual_label a ON a.cust = l.cust AND a.as_of = l.as_of
WHERE a.actual IS DISTINCT FROM l.expected;

\set QUIET off
\pset footer off
\echo
\echo Fixture features that differ from the hand-computed values (should be empty):
SELECT tz, 'F' || lpad(cust::text, 2, '0') AS fixture,
       to_char(as_of AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' AS as_of,
       n AS "#", feature, expected, actual
FROM fx_diff ORDER BY cust, as_of, n, tz;
\echo Fixture labels that differ from the hand-computed values (should be empty):
SELECT tz, 'F' || lpad(cust::text, 2, '0') AS fixture,
       to_char(as_of AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' AS as_of,
       expected, actual
FROM fx_label_diff ORDER BY cust, as_of, tz;
\pset footer on

SELECT format('fixtures (%s): %s feature checks, %s label checks, %s mismatches: %s',
              :'impl',
              3 * (SELECT count(*) FROM fx_expected),
              (SELECT count(*) FROM fx_actual_label),
              (SELECT count(*) FROM fx_diff) + (SELECT count(*) FROM fx_label_diff),
              CASE WHEN (SELECT count(*) FROM fx_diff) + (SELECT count(*) FROM fx_label_diff) = 0
                   THEN 'PASS' ELSE 'FAIL' END) AS verdict \gset fx_
\echo :fx_verdict
\set QUIET on

-- The contract of pd_ref for an unknown customer: an error (no_data_found).
SELECT :'impl' = 'pd_ref' AS fx_is_ref \gset
\if :fx_is_ref
DO $$
BEGIN
	BEGIN
		PERFORM pd_ref.customer_features('00000000-0000-0000-0000-000000000000', now());
		RAISE EXCEPTION 'pd_ref.customer_features accepted an unknown customer';
	EXCEPTION WHEN no_data_found THEN NULL;
	END;
	BEGIN
		PERFORM pd_ref.customer_label('00000000-0000-0000-0000-000000000000', now());
		RAISE EXCEPTION 'pd_ref.customer_label accepted an unknown customer';
	EXCEPTION WHEN no_data_found THEN NULL;
	END;
	IF pd_ref.customer_features(NULL, now()) IS NOT NULL
	   OR pd_ref.customer_label(pg_temp.fx(1), NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'pd_ref: NULL arguments must give NULL';
	END IF;
END $$;
\endif

DO $$
DECLARE
	n bigint := (SELECT count(*) FROM fx_diff) + (SELECT count(*) FROM fx_label_diff);
BEGIN
	IF n > 0 THEN
		RAISE EXCEPTION 'fixtures: % values differ from the hand-computed ones', n;
	END IF;
END $$;
