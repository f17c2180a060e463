-- Cross-check: the C feature engine against the plain-SQL reference pd_ref.
--
-- Compares pre_delinquency.customer_features(id, t) with
-- pd_ref.customer_features(id, t), feature by feature, and
-- pre_delinquency.customer_label(id, t) with pd_ref.customer_label(id, t), for
-- every customer at several as_of times. Needs the extension, data in
-- pre_delinquency.customers/transactions/payments, and pd_ref loaded
-- (test/reference/features_ref.sql; test/reference/crosscheck.sh does it all).
--
--   psql -X -v ON_ERROR_STOP=1 -f test/reference/crosscheck.sql
--
-- Optional psql variables:
--   -v as_of='2025-06-30 00:00+00,2025-05-01 12:00+00'
--        as_of times to use (comma-separated timestamptz); default: chosen
--        from the data, M = max(txn_time):
--          m_plus_1h    M + 1 hour
--          mid_m_7d     00:00 UTC of date(M) - 7 days
--          m_30d        M - 30 days (24-hour days)
--          m_95d        M - 95 days
--          m_200d       M - 200 days
--          txn_exact    the txn_time of the median transaction (all customers)
--          own_txn      per customer: exactly the txn_time of its latest salary
--                       credit before M - 10 days (else its latest transaction)
--   -v max_customers=N   only the first N customers (by id); default all
--   -v tz=Zone           session TimeZone for the run (default: unchanged)
--
-- Equal means |c - ref| <= 1e-9 or |c - ref| <= 1e-6 * max(|c|, |ref|)
-- (FEATURES.md); NULL or non-finite values are never equal. Labels must be
-- identical (NULL = NULL). Prints per-feature mismatch counts, examples, a
-- verdict line 'CROSSCHECK: PASS|FAIL ...', and raises an error on any
-- mismatch (so psql -v ON_ERROR_STOP=1 exits non-zero).

\set QUIET on
SET client_min_messages = warning;
\if :{?tz}
SET TimeZone = :'tz';
\endif
\if :{?max_customers}
\else
\set max_customers 0
\endif

DROP TABLE IF EXISTS pg_temp.cc_times, pg_temp.cc_pairs, pg_temp.cc_vals;

-- The as_of times --------------------------------------------------------------
CREATE TEMP TABLE cc_times (kind text PRIMARY KEY, as_of timestamptz);
\if :{?as_of}
INSERT INTO cc_times
SELECT 'given_' || i, trim(x)::timestamptz
FROM unnest(string_to_array(:'as_of', ',')) WITH ORDINALITY AS u(x, i);
\else
INSERT INTO cc_times
SELECT k.kind, k.as_of
FROM (SELECT max(txn_time) AS m FROM pre_delinquency.transactions) s,
LATERAL (VALUES
	('m_plus_1h', s.m + interval '1 hour'),
	('mid_m_7d',  (((s.m AT TIME ZONE 'UTC')::date - 7)::timestamp AT TIME ZONE 'UTC')),
	('m_30d',     s.m - make_interval(hours => 24 * 30)),
	('m_95d',     s.m - make_interval(hours => 24 * 95)),
	('m_200d',    s.m - make_interval(hours => 24 * 200)),
	('txn_exact', (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY txn_time)
	               FROM pre_delinquency.transactions))
) k(kind, as_of)
WHERE s.m IS NOT NULL;
\endif

-- (customer, as_of) pairs --------------------------------------------------------
CREATE TEMP TABLE cc_pairs AS
WITH cust AS (
	SELECT customer_id FROM pre_delinquency.customers
	ORDER BY customer_id
	LIMIT CASE WHEN :max_customers > 0 THEN :max_customers END
)
SELECT c.customer_id, t.kind, t.as_of
FROM cust c CROSS JOIN cc_times t
WHERE t.as_of IS NOT NULL;

\if :{?as_of}
\else
INSERT INTO cc_pairs
SELECT c.customer_id, 'own_txn',
       coalesce(
	       (SELECT max(tx.txn_time) FROM pre_delinquency.transactions tx
	        WHERE tx.customer_id = c.customer_id AND tx.txn_type = 'credit'
	          AND tx.category = 'salary' AND NOT tx.is_failed
	          AND tx.txn_time < m.m - make_interval(hours => 240)),
	       (SELECT max(tx.txn_time) FROM pre_delinquency.transactions tx
	        WHERE tx.customer_id = c.customer_id))
FROM (SELECT DISTINCT customer_id FROM cc_pairs) c,
     (SELECT max(txn_time) AS m FROM pre_delinquency.transactions) m;
DELETE FROM cc_pairs WHERE as_of IS NULL;
\endif

-- Both implementations -----------------------------------------------------------
CREATE FUNCTION pg_temp.arr(f pre_delinquency.features) RETURNS float8[]
LANGUAGE sql IMMUTABLE
RETURN ARRAY[f.salary_delay_days, f.salary_amount_deviation_pct, f.salary_missed_count_180d,
             f.balance_drawdown_7d_pct, f.balance_drawdown_14d_pct, f.balance_drawdown_30d_pct,
             f.balance_volatility_30d, f.days_below_min_balance_30d,
             f.discretionary_spend_drop_7d_pct, f.discretionary_spend_drop_30d_pct,
             f.essential_spend_increase_pct, f.total_spend_change_30d_pct,
             f.merchant_diversity_drop_pct, f.avg_txn_size_change_pct, f.weekend_spend_drop_pct,
             f.spend_to_income_ratio_30d, f.bill_lateness_avg_days_90d, f.loan_late_count_180d,
             f.partial_payment_count_90d, f.payment_timing_shift_days,
             f.payment_undershoot_pct_90d, f.failed_autodebit_count_30d, f.failed_txn_count_30d,
             f.atm_withdrawal_count_change_pct, f.atm_withdrawal_size_increase_pct,
             f.cash_reliance_ratio_30d, f.txn_frequency_drop_30d_pct, f.inactive_days_30d,
             f.behavior_consistency_score, f.financial_stress_composite,
             f.behavioral_anomaly_count]::float8[];

CREATE FUNCTION pg_temp.same(a float8, b float8) RETURNS boolean
LANGUAGE sql IMMUTABLE
RETURN coalesce(a NOT IN ('NaN', 'Infinity', '-Infinity')
                AND b NOT IN ('NaN', 'Infinity', '-Infinity')
                AND (abs(a - b) <= 1e-9 OR abs(a - b) <= 1e-6 * greatest(abs(a), abs(b))),
                false);

SELECT clock_timestamp() AS cc_t0 \gset
CREATE TEMP TABLE cc_vals AS
SELECT p.customer_id, p.kind, p.as_of,
       pg_temp.arr(pre_delinquency.customer_features(p.customer_id, p.as_of)) AS c,
       pg_temp.arr(pd_ref.customer_features(p.customer_id, p.as_of)) AS r,
       pre_delinquency.customer_label(p.customer_id, p.as_of) AS cl,
       pd_ref.customer_label(p.customer_id, p.as_of) AS rl
FROM cc_pairs p;
SELECT round(extract(epoch FROM clock_timestamp() - :'cc_t0'::timestamptz)::numeric, 1) AS cc_secs \gset

-- The names of the 31 features, in order, from the composite type.
CREATE TEMP VIEW cc_names AS
SELECT a.attnum::int AS n, a.attname::text AS feature
FROM pg_attribute a
WHERE a.attrelid = 'pre_delinquency.features'::regclass AND a.attnum > 0 AND NOT a.attisdropped;

CREATE TEMP VIEW cc_cmp AS
SELECT v.customer_id, v.kind, v.as_of, nm.n, nm.feature, v.c[nm.n] AS c, v.r[nm.n] AS r,
       pg_temp.same(v.c[nm.n], v.r[nm.n]) AS ok
FROM cc_vals v CROSS JOIN cc_names nm;

-- Report -------------------------------------------------------------------------
\set QUIET off
\pset footer off
\echo
\echo == as_of times (customers x times evaluated with both implementations)
SELECT kind, CASE WHEN kind = 'own_txn' THEN '(per customer)'
                  ELSE to_char(min(as_of) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || ' UTC'
             END AS as_of,
       count(*) AS customers
FROM cc_vals GROUP BY kind ORDER BY min(as_of) DESC;

\echo == mismatches per feature
SELECT n AS "#", feature, count(*) AS compared, count(*) FILTER (WHERE NOT ok) AS mismatches,
       max(abs(c - r)) FILTER (WHERE NOT ok) AS max_abs_diff
FROM cc_cmp GROUP BY n, feature ORDER BY n;

\echo == mismatches per as_of
SELECT kind, count(*) FILTER (WHERE NOT ok) AS feature_mismatches,
       count(DISTINCT customer_id) FILTER (WHERE NOT ok) AS customers_affected
FROM cc_cmp GROUP BY kind ORDER BY kind;

\echo == example feature mismatches (at most 3 per feature)
SELECT customer_id, kind, to_char(as_of AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS as_of_utc,
       n AS "#", feature, c AS c_value, r AS ref_value
FROM (SELECT *, row_number() OVER (PARTITION BY n ORDER BY kind, customer_id) AS rn
      FROM cc_cmp WHERE NOT ok) x
WHERE rn <= 3 ORDER BY n, rn;

\echo == labels
SELECT count(*) AS compared,
       count(*) FILTER (WHERE cl IS DISTINCT FROM rl) AS mismatches,
       count(*) FILTER (WHERE rl = 1) AS ref_ones, count(*) FILTER (WHERE rl = 0) AS ref_zeros,
       count(*) FILTER (WHERE rl IS NULL) AS ref_nulls
FROM cc_vals;
SELECT customer_id, kind, to_char(as_of AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS as_of_utc,
       cl AS c_label, rl AS ref_label
FROM cc_vals WHERE cl IS DISTINCT FROM rl
ORDER BY kind, customer_id LIMIT 10;
\pset footer on

SELECT (SELECT count(*) FROM cc_cmp) AS cc_n,
       (SELECT count(*) FROM cc_cmp WHERE NOT ok) AS cc_bad,
       (SELECT count(*) FROM cc_vals) AS cc_nl,
       (SELECT count(*) FROM cc_vals WHERE cl IS DISTINCT FROM rl) AS cc_badl,
       (SELECT count(DISTINCT customer_id) FROM cc_vals) AS cc_ncust,
       (SELECT count(DISTINCT kind) FROM cc_vals) AS cc_ntimes \gset
SELECT CASE WHEN :cc_n > 0 AND :cc_bad + :cc_badl = 0 THEN 'PASS' ELSE 'FAIL' END AS cc_verdict \gset
\echo
\echo CROSSCHECK: :cc_verdict -- :cc_bad of :cc_n feature comparisons and :cc_badl of :cc_nl label comparisons differ (:cc_ncust customers x :cc_ntimes as_of kinds, :cc_secs s)
\set QUIET on

DO $$
BEGIN
	IF (SELECT count(*) FROM cc_vals) = 0 THEN
		RAISE EXCEPTION 'crosscheck: nothing compared (no customers or no transactions?)';
	END IF;
	IF EXISTS (SELECT FROM cc_cmp WHERE NOT ok)
	   OR EXISTS (SELECT FROM cc_vals WHERE cl IS DISTINCT FROM rl) THEN
		RAISE EXCEPTION 'crosscheck: the C engine and pd_ref differ (see above)';
	END IF;
END $$;
