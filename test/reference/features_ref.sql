-- pd_ref: an independent, plain-SQL reference implementation of the 31
-- features and of the label of FEATURES.md (the project's data, feature and
-- label contract).
--
-- Kept in the test suite, never installed with the extension. It exists to be
-- compared with the C engine (pre_delinquency.customer_features /
-- customer_label) by test/reference/crosscheck.sql, so it deliberately takes
-- no shortcut of the C engine:
--   * it reads only pre_delinquency.customers, .transactions and .payments
--     (never balance_ledger); bal(x) is opening_balance plus every successful
--     transaction with txn_time < x;
--   * sums, averages, percentages and thresholds are computed in numeric
--     (exact for the 2-decimal amounts) and converted to float8 at the very
--     end; a percentage is computed as 100*a/b so that a value exactly on a
--     threshold of features 30-31 stays on it;
--   * every date is a UTC date and every "N days" is N*24 hours, whatever the
--     session TimeZone (no timestamptz +/- interval with a day or month
--     field: those are DST-aware in the session zone).
--
-- Behaviour outside the contract:
--   * customer_id or as_of NULL: the result is NULL;
--   * unknown customer: ERROR 'pd_ref: unknown customer ...' (SQLSTATE P0002,
--     no_data_found), for features and label alike.
--
-- Load with: psql -v ON_ERROR_STOP=1 -f test/reference/features_ref.sql
-- (needs the extension: it uses the pre_delinquency.features type).

SET client_min_messages = warning;
DROP SCHEMA IF EXISTS pd_ref CASCADE;
RESET client_min_messages;
CREATE SCHEMA pd_ref;
COMMENT ON SCHEMA pd_ref IS
	'Test-only plain-SQL reference implementation of FEATURES.md (features and label).';

-- ---------------------------------------------------------------------------
-- Conventions of FEATURES.md
-- ---------------------------------------------------------------------------

-- date(x): x's calendar date in UTC.
CREATE FUNCTION pd_ref.utc_date(x timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (x AT TIME ZONE 'UTC')::date;

-- A date used as a time: 00:00 UTC of that day.
CREATE FUNCTION pd_ref.utc_time(d date) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (d::timestamp AT TIME ZONE 'UTC');

-- N days as N 24-hour days: an interval with no day field, so that
-- timestamptz - days(n) is exact whatever the session TimeZone.
CREATE FUNCTION pd_ref.days(n integer) RETURNS interval
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN make_interval(hours => 24 * n);

-- pct(a, b) = 100*a/b if b > 0, else 0.
CREATE FUNCTION pd_ref.pct(a numeric, b numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN b > 0 THEN 100 * a / b ELSE 0 END;

-- change_pct(r, b) = pct(r - b, b); drop_pct(r, b) = pct(b - r, b).
-- When b is a rate "value / k" (B90 / 3, base * 7/30), callers pass both
-- arguments multiplied by the same positive factor (pct is invariant under
-- it) so that the arithmetic stays exact.
CREATE FUNCTION pd_ref.change_pct(r numeric, b numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN pd_ref.pct(r - b, b);

CREATE FUNCTION pd_ref.drop_pct(r numeric, b numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN pd_ref.pct(b - r, b);

-- Clip to [0, 1] (feature 30).
CREATE FUNCTION pd_ref.clip01(x numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN least(1::numeric, greatest(0::numeric, x));

-- The 15 debit categories, in the order of FEATURES.md (feature 29).
CREATE FUNCTION pd_ref.debit_categories() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY['groceries', 'utilities', 'rent', 'insurance', 'healthcare', 'dining',
             'entertainment', 'shopping', 'travel', 'transport', 'education',
             'loan_payment', 'atm', 'transfer_out', 'other'];

-- bal(x) = opening_balance + successful credits before x - successful debits
-- before x (every transaction, also those before opened_at). The literal
-- definition, for debugging a mismatch by hand; customer_features computes
-- the same sums in one pass.
CREATE FUNCTION pd_ref.bal(customer_id uuid, x timestamptz) RETURNS numeric
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
	SELECT c.opening_balance
	       + coalesce((SELECT sum(CASE tx.txn_type WHEN 'credit' THEN tx.amount ELSE -tx.amount END)
	                   FROM pre_delinquency.transactions tx
	                   WHERE tx.customer_id = c.customer_id AND NOT tx.is_failed
	                     AND tx.txn_time < x), 0)
	FROM pre_delinquency.customers c
	WHERE c.customer_id = bal.customer_id;
END;

-- ---------------------------------------------------------------------------
-- The 31 features
-- ---------------------------------------------------------------------------
CREATE FUNCTION pd_ref.customer_features(customer_id uuid, as_of timestamptz)
RETURNS pre_delinquency.features
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $fn$
#variable_conflict use_column
DECLARE
	cid    uuid := $1;
	t      timestamptz := $2;
	c      pre_delinquency.customers;
	inc    numeric;
	dt     date;          -- date(t)
	d      date;          -- feature 1's d
	f      numeric[] := array_fill(NULL::numeric, ARRAY[31]);
	-- window bounds (timestamps)
	t7     timestamptz;
	t14    timestamptz;
	t30    timestamptz;   -- R30 = [t30, t)
	t37    timestamptz;
	t60    timestamptz;
	t120   timestamptz;   -- B90 = [t120, t30)
	tmp    numeric;
	tmp2   numeric;
	first_salary timestamptz;
	bals   numeric[];     -- bals[j + 1] = bal(t - j days), j = 0..30
	w      record;
	p      record;
	cos    record;
	res    pre_delinquency.features;
BEGIN
	IF cid IS NULL OR t IS NULL THEN
		RETURN NULL;
	END IF;
	SELECT * INTO c FROM pre_delinquency.customers WHERE customer_id = cid;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'pd_ref: unknown customer %', cid USING ERRCODE = 'no_data_found';
	END IF;
	inc  := c.monthly_income;
	dt   := pd_ref.utc_date(t);
	t7   := t - pd_ref.days(7);
	t14  := t - pd_ref.days(14);
	t30  := t - pd_ref.days(30);
	t37  := t - pd_ref.days(37);
	t60  := t - pd_ref.days(60);
	t120 := t - pd_ref.days(120);

	-- Salary -----------------------------------------------------------------
	-- d = the latest date <= date(t) whose day of month is salary_day (1..28,
	-- so one exists among the last 31 days).
	SELECT max(x::date) INTO d
	FROM generate_series((dt - 31)::timestamp, dt::timestamp, interval '1 day') x
	WHERE extract(day FROM x) = c.salary_day;

	-- 1. salary_delay_days: earliest salary credit in [d - 5 days, t).
	SELECT min(txn_time) INTO first_salary
	FROM pre_delinquency.transactions
	WHERE customer_id = cid AND txn_type = 'credit' AND category = 'salary' AND NOT is_failed
	  AND txn_time >= pd_ref.utc_time(d - 5) AND txn_time < t;
	f[1] := CASE WHEN first_salary IS NOT NULL
	             THEN greatest(0, pd_ref.utc_date(first_salary) - d)
	             ELSE dt - d END;

	-- 2. salary_amount_deviation_pct: latest salary credit in [t - 40d, t),
	-- equal times: the larger amount.
	SELECT amount INTO tmp
	FROM pre_delinquency.transactions
	WHERE customer_id = cid AND txn_type = 'credit' AND category = 'salary' AND NOT is_failed
	  AND txn_time >= t - pd_ref.days(40) AND txn_time < t
	ORDER BY txn_time DESC, amount DESC
	LIMIT 1;
	f[2] := CASE WHEN FOUND THEN pd_ref.change_pct(tmp, inc) ELSE -100 END;

	-- 3. salary_missed_count_180d: d_k = d minus k months (same day of month,
	-- salary_day <= 28), counted when on or after date(opened_at) and no salary
	-- credit is dated within [d_k - 5, d_k + 10].
	SELECT count(*) INTO tmp
	FROM generate_series(1, 6) k
	CROSS JOIN LATERAL (SELECT (d::timestamp - make_interval(months => k))::date AS dk) m
	WHERE m.dk >= pd_ref.utc_date(c.opened_at)
	  AND NOT EXISTS (
		SELECT FROM pre_delinquency.transactions tx
		WHERE tx.customer_id = cid AND tx.txn_type = 'credit' AND tx.category = 'salary'
		  AND NOT tx.is_failed AND tx.txn_time < t
		  AND pd_ref.utc_date(tx.txn_time) BETWEEN m.dk - 5 AND m.dk + 10);
	f[3] := tmp;

	-- Balance ----------------------------------------------------------------
	-- bal(t - j days) for j = 0..30. Same value as pd_ref.bal() point by point
	-- (every successful transaction before the point), computed as
	-- opening + (flow before t - 30d) + (flow in [t - 30d, t - j days)) so that
	-- the older history is summed once, not 31 times.
	WITH older AS (
		SELECT coalesce(sum(CASE txn_type WHEN 'credit' THEN amount ELSE -amount END), 0) AS s
		FROM pre_delinquency.transactions
		WHERE customer_id = cid AND NOT is_failed AND txn_time < t30
	), recent AS (
		SELECT txn_time, CASE txn_type WHEN 'credit' THEN amount ELSE -amount END AS a
		FROM pre_delinquency.transactions
		WHERE customer_id = cid AND NOT is_failed AND txn_time >= t30 AND txn_time < t
	)
	SELECT array_agg(c.opening_balance + older.s
	                 + coalesce((SELECT sum(r.a) FROM recent r
	                             WHERE r.txn_time < t - pd_ref.days(j)), 0)
	                 ORDER BY j)
	INTO bals
	FROM generate_series(0, 30) j, older;

	-- 4-6. drawdown: 100*max(0, bal(t - N) - bal(t)) / max(bal(t - N), income)
	f[4] := 100 * greatest(0, bals[8]  - bals[1]) / greatest(bals[8],  inc);
	f[5] := 100 * greatest(0, bals[15] - bals[1]) / greatest(bals[15], inc);
	f[6] := 100 * greatest(0, bals[31] - bals[1]) / greatest(bals[31], inc);

	-- 7. balance_volatility_30d: population stddev of bal(t - j), j = 0..29,
	-- over income (numeric: exact two-pass-free computation).
	-- 8. days_below_min_balance_30d.
	SELECT stddev_pop(b) / inc, count(*) FILTER (WHERE b < c.min_balance)
	INTO tmp, tmp2
	FROM unnest(bals[1:30]) b;
	f[7] := tmp;
	f[8] := tmp2;

	-- Spending, cash, activity: one pass over [t - 120d, t) ------------------
	SELECT
		-- successful debits
		coalesce(sum(amount) FILTER (WHERE deb AND disc AND txn_time >= t7), 0)              AS disc_7,
		coalesce(sum(amount) FILTER (WHERE deb AND disc AND txn_time >= t37
		                                   AND txn_time < t7), 0)                          AS disc_7base,
		coalesce(sum(amount) FILTER (WHERE deb AND disc AND r30), 0)                         AS disc_r,
		coalesce(sum(amount) FILTER (WHERE deb AND disc AND b90), 0)                         AS disc_b,
		coalesce(sum(amount) FILTER (WHERE deb AND ess AND r30), 0)                          AS ess_r,
		coalesce(sum(amount) FILTER (WHERE deb AND ess AND b90), 0)                          AS ess_b,
		coalesce(sum(amount) FILTER (WHERE deb AND r30), 0)                                  AS deb_r,
		coalesce(sum(amount) FILTER (WHERE deb AND b90), 0)                                  AS deb_b,
		count(*) FILTER (WHERE deb AND r30)                                                  AS ndeb_r,
		count(*) FILTER (WHERE deb AND b90)                                                  AS ndeb_b,
		count(DISTINCT merchant_id) FILTER (WHERE deb AND r30)                               AS merch_r,
		count(DISTINCT merchant_id) FILTER (WHERE deb AND txn_time >= t60
		                                           AND txn_time < t30)                     AS merch_p,
		coalesce(sum(amount) FILTER (WHERE deb AND wkend AND r30), 0)                        AS wk_r,
		coalesce(sum(amount) FILTER (WHERE deb AND wkend AND b90), 0)                        AS wk_b,
		-- cash: successful debits with channel atm
		count(*) FILTER (WHERE deb AND channel = 'atm' AND r30)                              AS natm_r,
		count(*) FILTER (WHERE deb AND channel = 'atm' AND b90)                              AS natm_b,
		coalesce(sum(amount) FILTER (WHERE deb AND channel = 'atm' AND r30), 0)              AS atm_r,
		coalesce(sum(amount) FILTER (WHERE deb AND channel = 'atm' AND b90), 0)              AS atm_b,
		-- failed transactions (either type)
		count(*) FILTER (WHERE is_failed AND channel = 'autodebit' AND r30)                  AS fail_ad_r,
		count(*) FILTER (WHERE is_failed AND r30)                                            AS fail_r,
		-- successful transactions (either type)
		count(*) FILTER (WHERE NOT is_failed AND r30)                                        AS ntx_r,
		count(*) FILTER (WHERE NOT is_failed AND b90)                                        AS ntx_b
	INTO w
	FROM (
		SELECT tx.*,
		       (tx.txn_type = 'debit' AND NOT tx.is_failed)                                  AS deb,
		       tx.category IN ('dining', 'entertainment', 'shopping', 'travel')              AS disc,
		       tx.category IN ('groceries', 'utilities', 'rent', 'insurance', 'healthcare')  AS ess,
		       extract(isodow FROM tx.txn_time AT TIME ZONE 'UTC') IN (6, 7)                AS wkend,
		       tx.txn_time >= t30                                                            AS r30,
		       tx.txn_time < t30                                                             AS b90
		FROM pre_delinquency.transactions tx
		WHERE tx.customer_id = cid AND tx.txn_time >= t120 AND tx.txn_time < t
	) x;

	-- 9. drop_pct(DISC 7d, DISC [t-37d, t-7d) * 7/30), both sides * 30
	f[9]  := pd_ref.drop_pct(30 * w.disc_7, 7 * w.disc_7base);
	-- 10-12, 15, 24, 27: "B90 / 3", both sides * 3
	f[10] := pd_ref.drop_pct(3 * w.disc_r, w.disc_b);
	f[11] := pd_ref.change_pct(3 * w.ess_r, w.ess_b);
	f[12] := pd_ref.change_pct(3 * w.deb_r, w.deb_b);
	-- 13. distinct non-null merchants of debits, R30 vs [t-60d, t-30d)
	f[13] := pd_ref.drop_pct(w.merch_r, w.merch_p);
	-- 14. average debit amount, R30 vs B90 (not / 3); empty average = 0
	f[14] := pd_ref.change_pct(CASE WHEN w.ndeb_r > 0 THEN w.deb_r / w.ndeb_r ELSE 0 END,
	                           CASE WHEN w.ndeb_b > 0 THEN w.deb_b / w.ndeb_b ELSE 0 END);
	-- 15. weekend (Saturday, Sunday in UTC) debits
	f[15] := pd_ref.drop_pct(3 * w.wk_r, w.wk_b);
	-- 16.
	f[16] := w.deb_r / inc;
	-- 22, 23.
	f[22] := w.fail_ad_r;
	f[23] := w.fail_r;
	-- 24. ATM count, R30 vs B90 / 3
	f[24] := pd_ref.change_pct(3 * w.natm_r, w.natm_b);
	-- 25. ATM average amount, R30 vs B90 (not / 3)
	f[25] := pd_ref.change_pct(CASE WHEN w.natm_r > 0 THEN w.atm_r / w.natm_r ELSE 0 END,
	                           CASE WHEN w.natm_b > 0 THEN w.atm_b / w.natm_b ELSE 0 END);
	-- 26. cash reliance
	f[26] := CASE WHEN w.deb_r > 0 THEN w.atm_r / w.deb_r ELSE 0 END;
	-- 27. successful transactions, R30 vs B90 / 3
	f[27] := pd_ref.drop_pct(3 * w.ntx_r, w.ntx_b);

	-- 28. inactive_days_30d: j = 0..29 with no transaction at all (failed
	-- included) in [t - (j+1) days, t - j days).
	SELECT count(*) INTO tmp
	FROM generate_series(0, 29) j
	WHERE NOT EXISTS (
		SELECT FROM pre_delinquency.transactions tx
		WHERE tx.customer_id = cid
		  AND tx.txn_time >= t - pd_ref.days(j + 1) AND tx.txn_time < t - pd_ref.days(j));
	f[28] := tmp;

	-- 29. behavior_consistency_score: cosine of the per-category debit amount
	-- vectors of R30 and B90 (15 categories in the listed order).
	WITH v AS (
		SELECT cat.ord,
		       coalesce(sum(tx.amount) FILTER (WHERE tx.txn_time >= t30), 0) AS r,
		       coalesce(sum(tx.amount) FILTER (WHERE tx.txn_time <  t30), 0) AS b
		FROM unnest(pd_ref.debit_categories()) WITH ORDINALITY AS cat(name, ord)
		LEFT JOIN pre_delinquency.transactions tx
		       ON tx.customer_id = cid AND tx.category = cat.name AND tx.txn_type = 'debit'
		      AND NOT tx.is_failed AND tx.txn_time >= t120 AND tx.txn_time < t
		GROUP BY cat.ord
	)
	SELECT sum(r * b) AS dot, sum(r * r) AS rr, sum(b * b) AS bb, count(*) AS n INTO cos FROM v;
	IF cos.n <> 15 THEN
		RAISE EXCEPTION 'pd_ref: internal error, % debit categories', cos.n;
	END IF;
	f[29] := CASE WHEN cos.rr = 0 AND cos.bb = 0 THEN 1
	              WHEN cos.rr = 0 OR cos.bb = 0 THEN 0
	              ELSE cos.dot / (sqrt(cos.rr) * sqrt(cos.bb)) END;

	-- Payments ---------------------------------------------------------------
	-- paid as of t: paid_date < date(t). late_days, paid_as_of_t as defined.
	SELECT
		coalesce(avg(late) FILTER (WHERE kind <> 'loan' AND due_date >= dt - 90), 0)         AS late_avg,
		count(*) FILTER (WHERE kind = 'loan' AND due_date >= dt - 180
		                   AND (late > 5 OR pat < amount_due))                              AS loan_late,
		count(*) FILTER (WHERE due_date >= dt - 90 AND pat > 0 AND pat < amount_due)        AS partial,
		avg(paid_date - due_date) FILTER (WHERE paid AND due_date >= dt - 30)                AS shift_r,
		avg(paid_date - due_date) FILTER (WHERE paid AND due_date >= dt - 120
		                                    AND due_date < dt - 30)                         AS shift_b,
		coalesce(sum(amount_due - least(pat, amount_due)) FILTER (WHERE due_date >= dt - 90), 0)
		                                                                                     AS under,
		coalesce(sum(amount_due) FILTER (WHERE due_date >= dt - 90), 0)                      AS due90
	INTO p
	FROM (
		SELECT y.*,
		       CASE WHEN y.paid THEN y.amount_paid ELSE 0 END AS pat,
		       greatest(0, CASE WHEN y.paid THEN y.paid_date - y.due_date
		                        ELSE dt - y.due_date END) AS late
		FROM (SELECT py.*, (py.paid_date IS NOT NULL AND py.paid_date < dt) AS paid
		      FROM pre_delinquency.payments py
		      WHERE py.customer_id = cid AND py.due_date >= dt - 180 AND py.due_date < dt) y
	) z;

	f[17] := p.late_avg;
	f[18] := p.loan_late;
	f[19] := p.partial;
	f[20] := CASE WHEN p.shift_r IS NULL OR p.shift_b IS NULL THEN 0
	              ELSE p.shift_r - p.shift_b END;
	f[21] := pd_ref.pct(p.under, p.due90);

	-- Derived (from the exact values) ----------------------------------------
	f[30] := (pd_ref.clip01(f[1] / 10) + pd_ref.clip01(f[6] / 50) + pd_ref.clip01(f[8] / 10)
	          + pd_ref.clip01(f[22] / 3) + pd_ref.clip01(f[17] / 15)
	          + pd_ref.clip01(f[26] / 0.5)) / 6;
	f[31] := (f[1] > 3)::int + (f[3] >= 1)::int + (f[6] > 30)::int + (f[10] > 30)::int
	         + (f[11] > 20)::int + (f[22] >= 1)::int + (f[8] > 5)::int + (f[27] > 30)::int
	         + (f[26] > 0.3)::int + (f[17] > 5)::int;

	FOR i IN 1 .. 31 LOOP
		IF f[i] IS NULL THEN
			RAISE EXCEPTION 'pd_ref: internal error, feature % is NULL', i;
		END IF;
	END LOOP;

	res := ROW(f[1]::float8, f[2]::float8, f[3]::float8, f[4]::float8, f[5]::float8,
	           f[6]::float8, f[7]::float8, f[8]::float8, f[9]::float8, f[10]::float8,
	           f[11]::float8, f[12]::float8, f[13]::float8, f[14]::float8, f[15]::float8,
	           f[16]::float8, f[17]::float8, f[18]::float8, f[19]::float8, f[20]::float8,
	           f[21]::float8, f[22]::float8, f[23]::float8, f[24]::float8, f[25]::float8,
	           f[26]::float8, f[27]::float8, f[28]::float8, f[29]::float8, f[30]::float8,
	           f[31]::float8);
	RETURN res;
END
$fn$;
COMMENT ON FUNCTION pd_ref.customer_features(uuid, timestamptz) IS
	'Reference (test only): the 31 features of FEATURES.md as of a time, in plain SQL over the base tables.';

-- ---------------------------------------------------------------------------
-- The label
-- ---------------------------------------------------------------------------
CREATE FUNCTION pd_ref.customer_label(customer_id uuid, as_of timestamptz)
RETURNS integer
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $fn$
#variable_conflict use_column
DECLARE
	cid uuid := $1;
	dt  date;
	res integer;
BEGIN
	IF cid IS NULL OR $2 IS NULL THEN
		RETURN NULL;
	END IF;
	IF NOT EXISTS (SELECT FROM pre_delinquency.customers WHERE customer_id = cid) THEN
		RAISE EXCEPTION 'pd_ref: unknown customer %', cid USING ERRCODE = 'no_data_found';
	END IF;
	dt := pd_ref.utc_date($2);
	-- Loan payments due in [date(t), date(t) + 30), final record: 1 if any is
	-- missed, paid more than 5 days late or short; 0 if all are fine; NULL if
	-- none is due.
	SELECT CASE WHEN count(*) = 0 THEN NULL
	            WHEN bool_or(paid_date IS NULL OR paid_date - due_date > 5
	                         OR amount_paid < amount_due) THEN 1
	            ELSE 0 END
	INTO res
	FROM pre_delinquency.payments
	WHERE customer_id = cid AND kind = 'loan' AND due_date >= dt AND due_date < dt + 30;
	RETURN res;
END
$fn$;
COMMENT ON FUNCTION pd_ref.customer_label(uuid, timestamptz) IS
	'Reference (test only): the label of FEATURES.md (1 / 0 / NULL).';
