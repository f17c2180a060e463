-- pre_delinquency 0.1.0
--
-- Reads top to bottom: roles, the bank's tables (FEATURES.md), the tables the
-- scoring pipeline fills, the internal balance ledger, the feature type, and
-- the functions. Every object carries a COMMENT.

\echo Use "CREATE EXTENSION pre_delinquency" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Roles. Cluster-wide, so created only if missing; nothing that writes is
-- granted to PUBLIC.
-- ---------------------------------------------------------------------------
DO $roles$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pre_delinquency_reader') THEN
		CREATE ROLE pre_delinquency_reader NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pre_delinquency_operator') THEN
		CREATE ROLE pre_delinquency_operator NOLOGIN;
	END IF;
END
$roles$;

-- ---------------------------------------------------------------------------
-- The bank's data
-- ---------------------------------------------------------------------------
CREATE TABLE customers (
	customer_id     uuid PRIMARY KEY,
	monthly_income  numeric(14,2) NOT NULL
		CHECK (monthly_income > 0 AND monthly_income <> 'NaN'),
	salary_day      smallint NOT NULL CHECK (salary_day BETWEEN 1 AND 28),
	income_bracket  text NOT NULL,
	account_type    text NOT NULL,
	opened_at       timestamptz NOT NULL CHECK (isfinite(opened_at)),
	opening_balance numeric(14,2) NOT NULL DEFAULT 0 CHECK (opening_balance <> 'NaN'),
	min_balance     numeric(14,2) NOT NULL DEFAULT 0 CHECK (min_balance <> 'NaN')
);
COMMENT ON TABLE customers IS
	'Bank customers: income, salary day and account terms the features are measured against.';

CREATE TABLE transactions (
	event_id    uuid PRIMARY KEY,
	customer_id uuid NOT NULL REFERENCES customers ON DELETE CASCADE,
	txn_time    timestamptz NOT NULL CHECK (isfinite(txn_time)),
	amount      numeric(14,2) NOT NULL CHECK (amount > 0 AND amount <> 'NaN'),
	txn_type    text NOT NULL CHECK (txn_type IN ('credit', 'debit')),
	category    text NOT NULL,
	channel     text NOT NULL CHECK (channel IN ('pos', 'card', 'online', 'upi',
		'netbanking', 'atm', 'branch', 'autodebit')),
	merchant_id text CHECK (merchant_id <> ''),
	is_failed   boolean NOT NULL DEFAULT false,
	CONSTRAINT transactions_category_matches_type CHECK (
		(txn_type = 'credit' AND category IN ('salary', 'transfer_in', 'refund'))
		OR (txn_type = 'debit' AND category IN ('groceries', 'utilities', 'rent',
			'insurance', 'healthcare', 'dining', 'entertainment', 'shopping',
			'travel', 'transport', 'education', 'loan_payment', 'atm',
			'transfer_out', 'other')))
);
COMMENT ON TABLE transactions IS
	'Card, account and transfer events; event_id is the idempotency key.';
CREATE INDEX transactions_customer_time_idx ON transactions (customer_id, txn_time);
COMMENT ON INDEX transactions_customer_time_idx IS
	'The feature engine reads one customer''s recent history as one range of this index.';
CREATE INDEX transactions_salary_idx ON transactions (customer_id, txn_time)
	WHERE txn_type = 'credit' AND category = 'salary' AND NOT is_failed;
COMMENT ON INDEX transactions_salary_idx IS
	'Six months of salary credits for salary_missed_count_180d without reading every transaction.';

CREATE TABLE payments (
	payment_id  uuid PRIMARY KEY,
	customer_id uuid NOT NULL REFERENCES customers ON DELETE CASCADE,
	kind        text NOT NULL
		CHECK (kind IN ('loan', 'utility', 'rent', 'insurance', 'credit_card')),
	due_date    date NOT NULL CHECK (isfinite(due_date)),
	amount_due  numeric(14,2) NOT NULL CHECK (amount_due > 0 AND amount_due <> 'NaN'),
	paid_date   date CHECK (isfinite(paid_date)),
	amount_paid numeric(14,2) NOT NULL DEFAULT 0
		CHECK (amount_paid >= 0 AND amount_paid <> 'NaN'),
	CONSTRAINT payments_paid_date_iff_amount
		CHECK ((paid_date IS NULL) = (amount_paid = 0))
);
COMMENT ON TABLE payments IS
	'Bills and loan instalments; status (pending/paid/partial/late/missed) is derived as of a time.';
CREATE INDEX payments_customer_due_idx ON payments (customer_id, due_date);
COMMENT ON INDEX payments_customer_due_idx IS
	'Payment features and labels read one customer''s range of due dates.';

-- ---------------------------------------------------------------------------
-- Models, risk levels and intervention policies: behaviour as data
-- ---------------------------------------------------------------------------
CREATE TABLE models (
	model_id      integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name          text NOT NULL,
	created_at    timestamptz NOT NULL DEFAULT now(),
	feature_names text[] NOT NULL,
	booster       bytea NOT NULL,
	params        jsonb NOT NULL DEFAULT '{}',
	metrics       jsonb NOT NULL DEFAULT '{}',
	training      jsonb NOT NULL DEFAULT '{}',
	is_active     boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE models IS
	'XGBoost boosters (UBJ) with their feature list, parameters, held-out metrics and training data window; exactly one is active.';
CREATE UNIQUE INDEX models_active_idx ON models (is_active) WHERE is_active;
COMMENT ON INDEX models_active_idx IS 'At most one active model; scoring finds it through this index.';

-- A row that becomes active deactivates the others first, so that restoring
-- a dump (whose active model arrives after the shipped one) works too.
CREATE FUNCTION models_single_active() RETURNS trigger
LANGUAGE plpgsql SET search_path = pre_delinquency, pg_catalog AS $$
BEGIN
	UPDATE models SET is_active = false WHERE is_active AND model_id <> NEW.model_id;
	RETURN NEW;
END $$;
COMMENT ON FUNCTION models_single_active() IS 'Internal: keeps exactly one model active.';
CREATE TRIGGER models_single_active BEFORE INSERT OR UPDATE OF is_active ON models
	FOR EACH ROW WHEN (NEW.is_active) EXECUTE FUNCTION models_single_active();

CREATE TABLE risk_levels (
	risk_level text PRIMARY KEY,
	min_score  float8 NOT NULL UNIQUE CHECK (min_score >= 0 AND min_score <= 1),
	severity   smallint NOT NULL UNIQUE
);
COMMENT ON TABLE risk_levels IS
	'A score is at the highest level whose min_score it reaches; severity orders levels for the cooldown.';
INSERT INTO risk_levels VALUES
	('LOW', 0, 0), ('MEDIUM', 0.3, 1), ('HIGH', 0.5, 2), ('CRITICAL', 0.7, 3);

CREATE TABLE intervention_policies (
	risk_level        text PRIMARY KEY REFERENCES risk_levels ON UPDATE CASCADE,
	intervention_type text NOT NULL,
	channel           text NOT NULL CHECK (channel IN ('phone', 'sms', 'email')),
	priority          smallint NOT NULL CHECK (priority > 0),
	message_template  text NOT NULL,
	enabled           boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE intervention_policies IS
	'What to do at each risk level (no row or enabled = false: nothing). {risk_score}, {risk_level} and {top_risk_factors} are filled in.';
INSERT INTO intervention_policies VALUES
	('CRITICAL', 'urgent_outreach', 'phone', 1,
	 'Urgent: call the customer today. Risk {risk_score} ({risk_level}); main signals: {top_risk_factors}. Offer a payment holiday or restructuring before the next instalment.', true),
	('HIGH', 'proactive_support', 'sms', 2,
	 'We are here to help: if money is tight this month, reply HELP to talk about flexible repayment options before your next instalment.', true),
	('MEDIUM', 'gentle_reminder', 'email', 3,
	 'A friendly reminder that your next loan instalment is coming up. Budgeting tools and flexible options are available in your app.', true);

-- ---------------------------------------------------------------------------
-- What scoring writes (filled by the scoring and streaming features)
-- ---------------------------------------------------------------------------
CREATE TABLE risk_scores (
	score_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	customer_id  uuid NOT NULL REFERENCES customers ON DELETE CASCADE,
	scored_at    timestamptz NOT NULL DEFAULT now(),
	as_of        timestamptz NOT NULL,
	risk_score   float8 NOT NULL CHECK (risk_score >= 0 AND risk_score <= 1),
	risk_level   text NOT NULL,
	model_id     integer REFERENCES models,
	top_features jsonb NOT NULL DEFAULT '[]'
);
COMMENT ON TABLE risk_scores IS
	'Every recorded assessment: probability of a missed loan payment within 30 days.';
CREATE INDEX risk_scores_customer_idx ON risk_scores (customer_id, scored_at DESC);

CREATE TABLE interventions (
	intervention_id   text PRIMARY KEY
		CHECK (intervention_id ~ '^INT_[0-9a-f-]{36}_[0-9]{14}$'),
	customer_id       uuid NOT NULL REFERENCES customers ON DELETE CASCADE,
	created_at        timestamptz NOT NULL DEFAULT now(),
	risk_score        float8 NOT NULL CHECK (risk_score >= 0 AND risk_score <= 1),
	risk_level        text NOT NULL,
	intervention_type text NOT NULL,
	channel           text NOT NULL,
	priority          smallint NOT NULL,
	message           text NOT NULL,
	top_risk_factors  text[] NOT NULL DEFAULT '{}',
	status            text NOT NULL DEFAULT 'triggered'
		CHECK (status IN ('triggered', 'sent', 'delivered', 'failed', 'cancelled'))
);
COMMENT ON TABLE interventions IS
	'Outreach decided by the intervention policy (phone, SMS, email), INT_<customer>_<yyyymmddhhmmss>.';
CREATE INDEX interventions_customer_idx ON interventions (customer_id, created_at DESC);

-- ---------------------------------------------------------------------------
-- Balance ledger (internal). Net successful flow per customer and UTC month,
-- plus the all-time total under month = 'infinity', kept by statement
-- triggers on transactions. It lets the feature engine find a balance from a
-- handful of rows, whatever the length of the history. Derived data: not
-- dumped, rebuilt by the triggers when transactions are restored.
-- ---------------------------------------------------------------------------
CREATE TABLE balance_ledger (
	customer_id uuid NOT NULL REFERENCES customers ON DELETE CASCADE,
	month       date NOT NULL,
	net_cents   bigint NOT NULL,
	PRIMARY KEY (customer_id, month)
);
COMMENT ON TABLE balance_ledger IS
	'Internal: net successful flow (credits - debits, in cents) per customer and UTC month; month = infinity holds the total.';

-- SECURITY DEFINER: an operator who may insert transactions may not write the
-- ledger directly; the trigger does it for them. search_path is pinned.
CREATE FUNCTION ledger_on_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pre_delinquency, pg_catalog AS $$
BEGIN
	IF TG_OP IN ('DELETE', 'UPDATE') THEN
		-- Update only: a customer deleted with ON DELETE CASCADE has no ledger
		-- rows left to correct.
		UPDATE balance_ledger l SET net_cents = l.net_cents - f.net
		FROM (SELECT customer_id, coalesce(m, 'infinity') AS m, sum(net) AS net
		      FROM (SELECT customer_id,
		                   date_trunc('month', txn_time AT TIME ZONE 'UTC')::date AS m,
		                   CASE txn_type WHEN 'credit' THEN (amount * 100)::bigint
		                                 ELSE -(amount * 100)::bigint END AS net
		            FROM old_rows WHERE NOT is_failed) o
		      GROUP BY GROUPING SETS ((customer_id, m), (customer_id))) f
		WHERE l.customer_id = f.customer_id AND l.month = f.m;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		-- Ordered so that concurrent writers lock ledger rows in one order.
		INSERT INTO balance_ledger AS l (customer_id, month, net_cents)
		SELECT customer_id, coalesce(m, 'infinity'), sum(net)
		FROM (SELECT customer_id,
		             date_trunc('month', txn_time AT TIME ZONE 'UTC')::date AS m,
		             CASE txn_type WHEN 'credit' THEN (amount * 100)::bigint
		                           ELSE -(amount * 100)::bigint END AS net
		      FROM new_rows WHERE NOT is_failed) n
		GROUP BY GROUPING SETS ((customer_id, m), (customer_id))
		ORDER BY 1, 2
		ON CONFLICT (customer_id, month)
			DO UPDATE SET net_cents = l.net_cents + excluded.net_cents;
	END IF;
	RETURN NULL;
END $$;
COMMENT ON FUNCTION ledger_on_change() IS
	'Internal: keeps balance_ledger equal to the successful transactions, one statement at a time.';

CREATE FUNCTION ledger_on_truncate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pre_delinquency, pg_catalog AS $$
BEGIN
	DELETE FROM balance_ledger;
	RETURN NULL;
END $$;
COMMENT ON FUNCTION ledger_on_truncate() IS 'Internal: empties balance_ledger with transactions.';

CREATE TRIGGER transactions_ledger_insert AFTER INSERT ON transactions
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION ledger_on_change();
CREATE TRIGGER transactions_ledger_update AFTER UPDATE ON transactions
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION ledger_on_change();
CREATE TRIGGER transactions_ledger_delete AFTER DELETE ON transactions
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION ledger_on_change();
CREATE TRIGGER transactions_ledger_truncate AFTER TRUNCATE ON transactions
	FOR EACH STATEMENT EXECUTE FUNCTION ledger_on_truncate();

CREATE FUNCTION rebuild_balance_ledger() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pre_delinquency, pg_catalog AS $$
DECLARE
	n bigint;
BEGIN
	LOCK TABLE transactions IN SHARE MODE;
	DELETE FROM balance_ledger;
	INSERT INTO balance_ledger (customer_id, month, net_cents)
	SELECT customer_id, coalesce(m, 'infinity'), sum(net)
	FROM (SELECT customer_id,
	             date_trunc('month', txn_time AT TIME ZONE 'UTC')::date AS m,
	             CASE txn_type WHEN 'credit' THEN (amount * 100)::bigint
	                           ELSE -(amount * 100)::bigint END AS net
	      FROM transactions WHERE NOT is_failed) t
	GROUP BY GROUPING SETS ((customer_id, m), (customer_id));
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END $$;
COMMENT ON FUNCTION rebuild_balance_ledger() IS
	'Recomputes balance_ledger from transactions (after a bulk load with triggers disabled); returns the rows written.';

-- ---------------------------------------------------------------------------
-- Streaming: consumer offsets, the outbox, dead letters and score triggers
-- ---------------------------------------------------------------------------
CREATE TABLE kafka_offsets (
	consumer_group text NOT NULL,
	topic          text NOT NULL,
	kafka_partition integer NOT NULL CHECK (kafka_partition >= 0),
	next_offset    bigint NOT NULL CHECK (next_offset >= 0),
	updated_at     timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (consumer_group, topic, kafka_partition)
);
COMMENT ON TABLE kafka_offsets IS
	'The next offset to consume per partition, written in the same transaction as the rows the messages produced (exactly-once effect).';

CREATE TABLE outbox (
	outbox_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	topic             text NOT NULL,
	message_key       text NOT NULL,
	payload           jsonb NOT NULL,
	source_event_time timestamptz,
	created_at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE outbox IS
	'Prediction and intervention events waiting for the relay worker; a row leaves only after the broker acknowledged it.';

CREATE TABLE dead_letters (
	dead_letter_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	received_at     timestamptz NOT NULL DEFAULT now(),
	topic           text NOT NULL,
	kafka_partition integer NOT NULL,
	kafka_offset    bigint NOT NULL,
	message_key     bytea,
	payload         bytea,
	reason          text NOT NULL,
	detail          text,
	replay_attempts integer NOT NULL DEFAULT 0
);
COMMENT ON TABLE dead_letters IS
	'Events that could not be ingested, raw, with why; replay_dead_letters() retries them. Nothing is dropped silently.';
CREATE INDEX dead_letters_reason_idx ON dead_letters (reason, dead_letter_id);
CREATE INDEX dead_letters_source_idx ON dead_letters (topic, kafka_partition, kafka_offset);

CREATE TABLE score_triggers (
	rule         text PRIMARY KEY
		CHECK (rule IN ('failed_transaction', 'large_amount', 'atm_withdrawal',
		                'bill_payment', 'salary_credit', 'every_transaction')),
	enabled      boolean NOT NULL DEFAULT true,
	min_amount   numeric(14,2),
	min_interval interval NOT NULL DEFAULT '0',
	description  text NOT NULL
);
COMMENT ON TABLE score_triggers IS
	'Which ingested transactions re-assess their customer, and the least time between two assessments of one customer by the rule.';
INSERT INTO score_triggers VALUES
	('failed_transaction', true, NULL, '0', 'a failed transaction (e.g. a bounced auto-debit)'),
	('large_amount', true, 10000, '0', 'a debit of at least min_amount'),
	('atm_withdrawal', true, NULL, '0', 'a cash withdrawal at an ATM'),
	('bill_payment', true, NULL, '0', 'a utilities, rent, insurance or loan payment'),
	('salary_credit', true, NULL, '0', 'a salary credit (late or short salaries matter)'),
	('every_transaction', false, NULL, '0', 'every transaction: re-assess each touched customer once per batch');

-- Every recorded assessment and intervention goes out through the outbox,
-- whoever wrote it (assess_customer, assess_all, the ingest worker).
CREATE FUNCTION outbox_predictions() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pre_delinquency, pg_catalog AS $$
BEGIN
	INSERT INTO outbox (topic, message_key, payload, source_event_time)
	SELECT coalesce(nullif(current_setting('pre_delinquency.predictions_topic', true), ''),
	                'predictions-stream'),
	       r.customer_id::text,
	       jsonb_build_object('event_id', r.score_id::text, 'customer_id', r.customer_id,
	                          'risk_score', r.risk_score, 'risk_level', r.risk_level,
	                          'top_features', r.top_features, 'model_id', r.model_id,
	                          'timestamp', r.scored_at, 'event_time', clock_timestamp(),
	                          'event_type', 'prediction'),
	       nullif(current_setting('pre_delinquency.source_event_time', true), '')::timestamptz
	FROM new_rows r ORDER BY r.score_id;
	RETURN NULL;
END $$;
COMMENT ON FUNCTION outbox_predictions() IS 'Internal: a prediction event in the outbox for every risk_scores row.';
CREATE TRIGGER risk_scores_outbox AFTER INSERT ON risk_scores
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION outbox_predictions();

CREATE FUNCTION outbox_interventions() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pre_delinquency, pg_catalog AS $$
BEGIN
	INSERT INTO outbox (topic, message_key, payload, source_event_time)
	SELECT coalesce(nullif(current_setting('pre_delinquency.interventions_topic', true), ''),
	                'interventions-stream'),
	       i.customer_id::text,
	       jsonb_build_object('intervention_id', i.intervention_id, 'customer_id', i.customer_id,
	                          'risk_score', i.risk_score, 'risk_level', i.risk_level,
	                          'intervention_type', i.intervention_type, 'message', i.message,
	                          'channel', i.channel, 'priority', i.priority,
	                          'top_risk_factors', to_jsonb(i.top_risk_factors),
	                          'timestamp', i.created_at, 'status', i.status,
	                          'event_type', 'intervention'),
	       nullif(current_setting('pre_delinquency.source_event_time', true), '')::timestamptz
	FROM new_rows i ORDER BY i.created_at, i.intervention_id;
	RETURN NULL;
END $$;
COMMENT ON FUNCTION outbox_interventions() IS 'Internal: an intervention event in the outbox for every interventions row.';
CREATE TRIGGER interventions_outbox AFTER INSERT ON interventions
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION outbox_interventions();

-- ---------------------------------------------------------------------------
-- Features
-- ---------------------------------------------------------------------------
CREATE TYPE features AS (
	salary_delay_days                float8,
	salary_amount_deviation_pct      float8,
	salary_missed_count_180d         float8,
	balance_drawdown_7d_pct          float8,
	balance_drawdown_14d_pct         float8,
	balance_drawdown_30d_pct         float8,
	balance_volatility_30d           float8,
	days_below_min_balance_30d       float8,
	discretionary_spend_drop_7d_pct  float8,
	discretionary_spend_drop_30d_pct float8,
	essential_spend_increase_pct     float8,
	total_spend_change_30d_pct       float8,
	merchant_diversity_drop_pct      float8,
	avg_txn_size_change_pct          float8,
	weekend_spend_drop_pct           float8,
	spend_to_income_ratio_30d        float8,
	bill_lateness_avg_days_90d       float8,
	loan_late_count_180d             float8,
	partial_payment_count_90d        float8,
	payment_timing_shift_days        float8,
	payment_undershoot_pct_90d       float8,
	failed_autodebit_count_30d       float8,
	failed_txn_count_30d             float8,
	atm_withdrawal_count_change_pct  float8,
	atm_withdrawal_size_increase_pct float8,
	cash_reliance_ratio_30d          float8,
	txn_frequency_drop_30d_pct       float8,
	inactive_days_30d                float8,
	behavior_consistency_score       float8,
	financial_stress_composite       float8,
	behavioral_anomaly_count         float8
);
COMMENT ON TYPE features IS 'The 31 behavioural stress features of FEATURES.md, in order.';

CREATE FUNCTION customer_features(customer_id uuid, as_of timestamptz DEFAULT now())
RETURNS features
AS 'MODULE_PATHNAME', 'pd_customer_features'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION customer_features(uuid, timestamptz) IS
	'The 31 features of one customer as of a time (nothing at or after as_of counts).';

CREATE FUNCTION feature_names() RETURNS text[]
AS 'MODULE_PATHNAME', 'pd_feature_names'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION feature_names() IS 'The names of the 31 features, in the order of the features type.';

CREATE FUNCTION customer_label(customer_id uuid, as_of timestamptz)
RETURNS integer
AS 'MODULE_PATHNAME', 'pd_customer_label'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION customer_label(uuid, timestamptz) IS
	'1 if a loan payment due in [date(as_of), +30 days) is missed, >5 days late or short; 0 if all are paid in full and on time; NULL if none is due.';

-- ---------------------------------------------------------------------------
-- The synthetic bank
-- ---------------------------------------------------------------------------
CREATE FUNCTION generate_synthetic(customers integer, days integer, seed integer,
                                   end_time timestamptz DEFAULT now())
RETURNS TABLE (customers bigint, transactions bigint, payments bigint,
               failed_transactions bigint, episode_share float8,
               label_share jsonb, elapsed_ms float8)
AS 'MODULE_PATHNAME', 'pd_generate_synthetic'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION generate_synthetic(integer, integer, integer, timestamptz) IS
	'Fills customers, transactions and payments with a deterministic synthetic bank; returns a summary.';

-- ---------------------------------------------------------------------------
-- Scoring, explanation, assessment and training (XGBoost C API)
-- ---------------------------------------------------------------------------
CREATE FUNCTION score_customer(customer_id uuid, as_of timestamptz DEFAULT now())
RETURNS float8
AS 'MODULE_PATHNAME', 'pd_score_customer'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION score_customer(uuid, timestamptz) IS
	'Probability that the customer misses a loan payment within 30 days, from the active model.';

CREATE FUNCTION explain_customer(customer_id uuid, as_of timestamptz DEFAULT now(),
                                 top_n integer DEFAULT 5)
RETURNS TABLE (feature text, value float8, contribution float8)
AS 'MODULE_PATHNAME', 'pd_explain_customer'
LANGUAGE C STABLE PARALLEL SAFE ROWS 5;
COMMENT ON FUNCTION explain_customer(uuid, timestamptz, integer) IS
	'Exact TreeSHAP contributions (log-odds) of the top_n features, largest first; top_n NULL: all features and the bias, which sum to the margin.';

CREATE FUNCTION activate_model(model_id integer) RETURNS void
AS 'MODULE_PATHNAME', 'pd_activate_model'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION activate_model(integer) IS
	'Makes a model the active one, after checking that its booster loads and its features match; other sessions use it from their next statement.';

CREATE FUNCTION risk_level(score float8) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pre_delinquency, pg_catalog
RETURN (SELECT l.risk_level FROM risk_levels l WHERE l.min_score <= score
        ORDER BY l.min_score DESC LIMIT 1);
COMMENT ON FUNCTION risk_level(float8) IS 'The risk level of a score, from pre_delinquency.risk_levels.';

CREATE FUNCTION assess_customer(customer_id uuid) RETURNS risk_scores
AS 'MODULE_PATHNAME', 'pd_assess_customer'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assess_customer(uuid) IS
	'Scores the customer now, records a risk_scores row with the top features and, if the policy and the cooldown allow, an intervention.';

CREATE FUNCTION assess_all(as_of timestamptz DEFAULT now()) RETURNS bigint
AS 'MODULE_PATHNAME', 'pd_assess_all'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assess_all(timestamptz) IS
	'Assesses every customer in batches (one batched prediction per batch); returns how many were assessed.';

CREATE FUNCTION train_model(name text, train_end timestamptz, params jsonb DEFAULT '{}',
                            seed integer DEFAULT 42)
RETURNS integer
AS 'MODULE_PATHNAME', 'pd_train_model'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION train_model(text, timestamptz, jsonb, integer) IS
	'Trains an XGBoost model on observations up to train_end (split by customer, seeded) and stores it with held-out metrics; returns its model_id (not activated).';

CREATE FUNCTION evaluate_model(model_id integer, from_time timestamptz, to_time timestamptz)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pd_evaluate_model'
LANGUAGE C STABLE;
COMMENT ON FUNCTION evaluate_model(integer, timestamptz, timestamptz) IS
	'Metrics of a model (ROC AUC, PR AUC, log loss, Brier, calibration) on observations with as_of in [from_time, to_time] of the data now in the database.';

CREATE FUNCTION ingest_events(payloads text[], topic text DEFAULT 'sql')
RETURNS TABLE (inserted bigint, duplicates bigint, dead_letters bigint,
               assessed bigint, interventions bigint, received bigint)
AS 'MODULE_PATHNAME', 'pd_ingest_events'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION ingest_events(text[], text) IS
	'Applies transaction events (the JSON the ingest worker reads from Kafka) exactly as the worker does: inserts, dead letters, re-assessment.';

CREATE FUNCTION replay_dead_letters(reason_like text DEFAULT NULL) RETURNS bigint
AS 'MODULE_PATHNAME', 'pd_replay_dead_letters'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION replay_dead_letters(text) IS
	'Parses dead letters (whose reason is LIKE reason_like, or all) again; those that go in now leave dead_letters, the rest stay with their new reason. Returns how many went in.';

CREATE FUNCTION read_shipped_model() RETURNS text
AS 'MODULE_PATHNAME', 'pd_read_shipped_model'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION read_shipped_model() IS
	'Internal: the model shipped with the extension (JSON), installed as the active model by CREATE EXTENSION.';

-- The shipped model becomes the active one, with no further step.
INSERT INTO models (name, feature_names, booster, params, metrics, training, is_active)
SELECT m->>'name', ARRAY(SELECT jsonb_array_elements_text(m->'feature_names')),
       decode(m->>'booster', 'base64'), m->'params', m->'metrics',
       m->'training' || '{"shipped": true}', true
FROM (SELECT read_shipped_model()::jsonb AS m) s
WHERE m IS NOT NULL;

-- ---------------------------------------------------------------------------
-- Monitoring views
-- ---------------------------------------------------------------------------
CREATE VIEW latest_risk AS
SELECT DISTINCT ON (customer_id)
       customer_id, scored_at, as_of, risk_score, risk_level, model_id, top_features
FROM risk_scores
ORDER BY customer_id, scored_at DESC, score_id DESC;
COMMENT ON VIEW latest_risk IS 'The most recent assessment of each customer.';

CREATE VIEW risk_summary AS
SELECT l.risk_level, l.min_score,
       count(r.customer_id) AS customers,
       round(avg(r.risk_score)::numeric, 4) AS avg_score,
       (SELECT count(*) FROM interventions i
        WHERE i.risk_level = l.risk_level AND i.created_at > now() - interval '1 day') AS interventions_24h
FROM risk_levels l
LEFT JOIN latest_risk r ON r.risk_level = l.risk_level
GROUP BY l.risk_level, l.min_score, l.severity
ORDER BY l.severity DESC;
COMMENT ON VIEW risk_summary IS 'Customers per risk level at their latest assessment, and interventions of the last 24 hours.';

CREATE VIEW model_status AS
SELECT model_id, name, created_at, is_active,
       (metrics->>'roc_auc')::float8 AS roc_auc,
       (metrics->>'pr_auc')::float8 AS pr_auc,
       (metrics->>'ece')::float8 AS calibration_error,
       training->>'train_end' AS train_end,
       (SELECT count(*) FROM risk_scores r WHERE r.model_id = m.model_id) AS scores_recorded
FROM models m
ORDER BY model_id;
COMMENT ON VIEW model_status IS 'Every model with its held-out metrics, which one is active, and how many scores it produced.';

CREATE FUNCTION worker_status_internal(
	OUT worker text, OUT pid integer, OUT state text, OUT started_at timestamptz,
	OUT last_batch_at timestamptz, OUT batches bigint, OUT events bigint,
	OUT errors bigint, OUT last_error text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pd_worker_status'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION worker_status_internal() IS 'Internal: the workers'' shared-memory slots.';

CREATE FUNCTION pipeline_counters(
	OUT consumed bigint, OUT inserted bigint, OUT duplicates bigint,
	OUT dead_letters bigint, OUT assessments bigint, OUT interventions bigint,
	OUT produced bigint, OUT produce_errors bigint, OUT latency_p50_ms float8,
	OUT latency_p99_ms float8, OUT since timestamptz, OUT workers_loaded boolean)
AS 'MODULE_PATHNAME', 'pd_pipeline_counters'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pipeline_counters() IS 'Internal: the pipeline''s shared-memory counters.';

CREATE FUNCTION partition_watermarks(OUT topic text, OUT kafka_partition integer,
                                     OUT high_watermark bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pd_partition_watermarks'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION partition_watermarks() IS 'Internal: the high watermarks the ingest worker last saw.';

CREATE FUNCTION pipeline_stats_reset() RETURNS void
AS 'MODULE_PATHNAME', 'pd_pipeline_stats_reset'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pipeline_stats_reset() IS 'Resets the counters behind pipeline_stats and worker_status.';

CREATE VIEW worker_status AS SELECT * FROM worker_status_internal();
COMMENT ON VIEW worker_status IS
	'The ingest and relay workers: pid, what they do, batches, events, errors (needs shared_preload_libraries).';

CREATE VIEW consumer_lag AS
SELECT k.topic, k.kafka_partition, k.next_offset AS stored_offset, w.high_watermark,
       greatest(w.high_watermark - k.next_offset, 0) AS lag, k.updated_at
FROM kafka_offsets k
LEFT JOIN partition_watermarks() w USING (topic, kafka_partition)
WHERE k.consumer_group = coalesce(nullif(current_setting('pre_delinquency.consumer_group', true), ''),
                                  'feature-processor-group')
ORDER BY k.topic, k.kafka_partition;
COMMENT ON VIEW consumer_lag IS 'Per partition: the offset stored with the data, the high watermark last seen, the lag.';

CREATE VIEW pipeline_stats AS
SELECT c.consumed AS events_consumed, c.inserted, c.duplicates, c.dead_letters,
       c.assessments, c.interventions,
       (SELECT count(*) FROM outbox) AS outbox_depth,
       c.produced, c.produce_errors,
       c.latency_p50_ms AS end_to_end_p50_ms, c.latency_p99_ms AS end_to_end_p99_ms,
       c.since, c.workers_loaded
FROM pipeline_counters() c;
COMMENT ON VIEW pipeline_stats IS
	'Events consumed, inserted, duplicates, dead letters, assessments, interventions, outbox depth, produced, errors, end-to-end latency (last 4096 events) since the last reset.';

-- ---------------------------------------------------------------------------
-- Privileges and pg_dump
-- ---------------------------------------------------------------------------
REVOKE ALL ON ALL TABLES IN SCHEMA pre_delinquency FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA pre_delinquency FROM PUBLIC;
GRANT USAGE ON SCHEMA pre_delinquency TO pre_delinquency_reader, pre_delinquency_operator;
GRANT pre_delinquency_reader TO pre_delinquency_operator;
GRANT SELECT ON customers, transactions, payments, risk_scores, interventions
	TO pre_delinquency_reader;
GRANT SELECT ON models, risk_levels, intervention_policies, latest_risk, risk_summary,
	model_status TO pre_delinquency_reader;
GRANT EXECUTE ON FUNCTION customer_features(uuid, timestamptz), feature_names(),
	customer_label(uuid, timestamptz), score_customer(uuid, timestamptz),
	explain_customer(uuid, timestamptz, integer), risk_level(float8),
	evaluate_model(integer, timestamptz, timestamptz) TO pre_delinquency_reader;
GRANT INSERT, UPDATE, DELETE ON customers, transactions, payments TO pre_delinquency_operator;
GRANT INSERT, UPDATE, DELETE ON risk_levels, intervention_policies TO pre_delinquency_operator;
GRANT INSERT, UPDATE ON risk_scores, interventions TO pre_delinquency_operator;
GRANT INSERT, UPDATE ON models TO pre_delinquency_operator;
GRANT SELECT ON kafka_offsets, score_triggers, worker_status, consumer_lag, pipeline_stats
	TO pre_delinquency_reader;
GRANT EXECUTE ON FUNCTION worker_status_internal(), pipeline_counters(), partition_watermarks()
	TO pre_delinquency_reader;
GRANT EXECUTE ON FUNCTION pipeline_stats_reset() TO pre_delinquency_operator;
GRANT UPDATE ON score_triggers TO pre_delinquency_operator;
-- raw events may hold personal data: operators only
GRANT SELECT, DELETE ON dead_letters, outbox TO pre_delinquency_operator;
GRANT EXECUTE ON FUNCTION generate_synthetic(integer, integer, integer, timestamptz),
	rebuild_balance_ledger(), activate_model(integer), assess_customer(uuid),
	assess_all(timestamptz), train_model(text, timestamptz, jsonb, integer),
	ingest_events(text[], text), replay_dead_letters(text)
	TO pre_delinquency_operator;

SELECT pg_catalog.pg_extension_config_dump('customers', '');
SELECT pg_catalog.pg_extension_config_dump('transactions', '');
SELECT pg_catalog.pg_extension_config_dump('payments', '');
SELECT pg_catalog.pg_extension_config_dump('risk_scores', '');
SELECT pg_catalog.pg_extension_config_dump('risk_scores_score_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('interventions', '');
SELECT pg_catalog.pg_extension_config_dump('kafka_offsets', '');
SELECT pg_catalog.pg_extension_config_dump('outbox', '');
SELECT pg_catalog.pg_extension_config_dump('outbox_outbox_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('dead_letters', '');
SELECT pg_catalog.pg_extension_config_dump('dead_letters_dead_letter_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('score_triggers',
	'WHERE rule NOT IN (''failed_transaction'', ''large_amount'', ''atm_withdrawal'', ''bill_payment'', ''salary_credit'', ''every_transaction'')');
-- the shipped model is recreated by CREATE EXTENSION
SELECT pg_catalog.pg_extension_config_dump('models', 'WHERE (training->>''shipped'') IS NULL');
SELECT pg_catalog.pg_extension_config_dump('models_model_id_seq', '');
-- Like PostGIS' spatial_ref_sys: rows the script seeds are recreated by
-- CREATE EXTENSION, so only rows a DBA added are dumped.
SELECT pg_catalog.pg_extension_config_dump('risk_levels',
	'WHERE risk_level NOT IN (''LOW'', ''MEDIUM'', ''HIGH'', ''CRITICAL'')');
SELECT pg_catalog.pg_extension_config_dump('intervention_policies',
	'WHERE risk_level NOT IN (''LOW'', ''MEDIUM'', ''HIGH'', ''CRITICAL'')');

-- added in 0.2.0 (scaleout)
-- ---------------------------------------------------------------------------
-- Scale-out: several databases each own a fixed set of partitions of
-- transactions_topic (pre_delinquency.partitions); kafka_partition() tells
-- which customers' events a database will receive, ingest_assignment what
-- its ingest worker consumes. docs/SCALING.md.
-- ---------------------------------------------------------------------------
CREATE FUNCTION kafka_partition(key text, partitions integer) RETURNS integer
AS 'MODULE_PATHNAME', 'pd_kafka_partition'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION kafka_partition(text, integer) IS
	'The partition a message with this key goes to among this many: the Java client''s default partitioner (murmur2, positive, modulo), as librdkafka''s murmur2 partitioners. Use kafka_partition(customer_id::text, n) to load only the customers a database owns.';

CREATE FUNCTION ingest_assignment_internal(
	OUT mode text, OUT topic text, OUT owned text, OUT assigned integer[],
	OUT missing integer[], OUT topic_partitions integer)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pd_ingest_assignment'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION ingest_assignment_internal() IS 'Internal: what the ingest worker consumes, from shared memory.';

CREATE VIEW ingest_assignment AS SELECT * FROM ingest_assignment_internal();
COMMENT ON VIEW ingest_assignment IS
	'What the ingest worker consumes: mode (group: consumer-group rebalance; static: pre_delinquency.partitions), the owned partitions, those assigned, those the topic does not have, the topic''s partition count. No row before the first assignment.';

REVOKE ALL ON FUNCTION kafka_partition(text, integer), ingest_assignment_internal()
	FROM PUBLIC;
REVOKE ALL ON ingest_assignment FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kafka_partition(text, integer), ingest_assignment_internal()
	TO pre_delinquency_reader;
GRANT SELECT ON ingest_assignment TO pre_delinquency_reader;
