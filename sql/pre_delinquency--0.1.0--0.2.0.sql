-- pre_delinquency 0.1.0 -> 0.2.0
--
-- Everything 0.2.0 changes in SQL objects. There is no separate
-- pre_delinquency--0.2.0.sql: CREATE EXTENSION runs the released 0.1.0
-- script (frozen) followed by this one, so a new database and an updated one
-- are built by the same statements (test/upgrade/test_upgrade.sh compares
-- them). The shared library serves both: every C symbol 0.1.0 names stays.
--
-- How to add to it: append a block at the end, headed
--     -- added in 0.2.0: <what and why>
-- Each block must be safe to run on a database holding data and a running
-- stream (the workers keep running during ALTER EXTENSION ... UPDATE):
-- CREATE ... / ALTER ... ADD, no table rewrites of the big tables, no
-- DROP of anything 0.1.0 code or users rely on; a table it locks strongly
-- goes into the LOCK list below. A new C function needs the new library
-- loaded (docs/OPERATIONS.md: install, restart, then update). A new function
-- or relation gets REVOKE ALL ... FROM PUBLIC and a GRANT to the role it is
-- for (sql/security.sql fails on anything PUBLIC can use); a function not in
-- C gets SET search_path = pre_delinquency, pg_catalog, pg_temp.

\echo Use "ALTER EXTENSION pre_delinquency UPDATE" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Every lock first, all at once. The ingest worker reads these tables in
-- each batch transaction: taking their locks one ALTER at a time, the update
-- would hold one while the worker holds another and each would wait for the
-- other (a deadlock, seen in test/upgrade). So the update takes them all
-- between two batches, without ever waiting while holding some: NOWAIT,
-- retried for at most 60 s. A block below that takes a strong lock
-- (ALTER TABLE, CREATE TRIGGER, CREATE INDEX) on another table adds that
-- table to this list.
-- ---------------------------------------------------------------------------
DO $locks$
DECLARE
	give_up timestamptz := clock_timestamp() + interval '60 seconds';
BEGIN
	LOOP
		BEGIN
			LOCK TABLE risk_levels, intervention_policies, score_triggers, models,
				transactions, payments
				IN ACCESS EXCLUSIVE MODE NOWAIT;
			EXIT;
		EXCEPTION WHEN lock_not_available THEN
			IF clock_timestamp() > give_up THEN
				RAISE EXCEPTION 'could not lock the pre_delinquency tables within 60 s'
					USING ERRCODE = 'lock_not_available',
					      HINT = 'Something holds them for long: see pg_locks, then run ALTER EXTENSION pre_delinquency UPDATE again.';
			END IF;
			PERFORM pg_sleep(0.01);
		END;
	END LOOP;
END
$locks$;

-- ---------------------------------------------------------------------------
-- added in 0.2.0: security review (docs/SECURITY.md)
-- ---------------------------------------------------------------------------

-- pg_temp last. A search_path without pg_temp searches the session's
-- temporary schema FIRST for tables: a role allowed to insert transactions
-- could create a temporary "balance_ledger" or "outbox" and have these
-- SECURITY DEFINER triggers (which run as the extension's owner) write into
-- it, or fire its own triggers as that owner.
ALTER FUNCTION models_single_active() SET search_path = pre_delinquency, pg_catalog, pg_temp;
ALTER FUNCTION ledger_on_change() SET search_path = pre_delinquency, pg_catalog, pg_temp;
ALTER FUNCTION ledger_on_truncate() SET search_path = pre_delinquency, pg_catalog, pg_temp;
ALTER FUNCTION rebuild_balance_ledger() SET search_path = pre_delinquency, pg_catalog, pg_temp;
ALTER FUNCTION outbox_predictions() SET search_path = pre_delinquency, pg_catalog, pg_temp;
ALTER FUNCTION outbox_interventions() SET search_path = pre_delinquency, pg_catalog, pg_temp;
ALTER FUNCTION risk_level(float8) SET search_path = pre_delinquency, pg_catalog, pg_temp;

-- Input size limits on the text an operator writes (docs/SECURITY.md,
-- "Input size limits"). NOT VALID: an update never fails on rows a DBA
-- wrote before; every new or changed row is checked.
ALTER TABLE intervention_policies
	ADD CONSTRAINT intervention_policies_template_length
		CHECK (length(message_template) BETWEEN 1 AND 2000) NOT VALID,
	ADD CONSTRAINT intervention_policies_type_length
		CHECK (length(intervention_type) BETWEEN 1 AND 64) NOT VALID;
ALTER TABLE risk_levels
	ADD CONSTRAINT risk_levels_name_length
		CHECK (length(risk_level) BETWEEN 1 AND 32) NOT VALID;
ALTER TABLE models
	ADD CONSTRAINT models_name_length
		CHECK (length(name) BETWEEN 1 AND 200) NOT VALID;

-- ---------------------------------------------------------------------------
-- added in 0.2.0: pg_dump keeps a DBA's changes to the seeded rows
--
-- 0.1.0 dumped only the rows a DBA added to risk_levels,
-- intervention_policies and score_triggers: a seeded row the DBA changed
-- (MEDIUM at 0.35, another HIGH template, every_transaction enabled) came
-- back as the default after a restore. Now every row that differs from its
-- seed is dumped, and on restore it replaces the seed CREATE EXTENSION just
-- wrote. Deleting a seeded row is not remembered: disable a policy or a
-- trigger (enabled = false) rather than deleting it.
-- ---------------------------------------------------------------------------
CREATE TABLE seeded_config (
	table_name text NOT NULL,
	key        text NOT NULL,
	seed       jsonb NOT NULL,
	PRIMARY KEY (table_name, key)
);
COMMENT ON TABLE seeded_config IS
	'Internal: the rows the install script seeds into risk_levels, intervention_policies and score_triggers, as written; a row equal to its seed is not dumped.';
-- The seeds as 0.1.0 wrote them (an updated database's rows may differ
-- from them already: those are the DBA's changes, to be dumped).
INSERT INTO seeded_config (table_name, key, seed)
SELECT v.table_name, v.key, v.seed::jsonb
FROM (VALUES
	('risk_levels', 'LOW', '{"severity": 0, "min_score": 0, "risk_level": "LOW"}'),
	('risk_levels', 'MEDIUM', '{"severity": 1, "min_score": 0.3, "risk_level": "MEDIUM"}'),
	('risk_levels', 'HIGH', '{"severity": 2, "min_score": 0.5, "risk_level": "HIGH"}'),
	('risk_levels', 'CRITICAL', '{"severity": 3, "min_score": 0.7, "risk_level": "CRITICAL"}'),
	('intervention_policies', 'CRITICAL', '{"channel": "phone", "enabled": true, "priority": 1, "risk_level": "CRITICAL", "message_template": "Urgent: call the customer today. Risk {risk_score} ({risk_level}); main signals: {top_risk_factors}. Offer a payment holiday or restructuring before the next instalment.", "intervention_type": "urgent_outreach"}'),
	('intervention_policies', 'HIGH', '{"channel": "sms", "enabled": true, "priority": 2, "risk_level": "HIGH", "message_template": "We are here to help: if money is tight this month, reply HELP to talk about flexible repayment options before your next instalment.", "intervention_type": "proactive_support"}'),
	('intervention_policies', 'MEDIUM', '{"channel": "email", "enabled": true, "priority": 3, "risk_level": "MEDIUM", "message_template": "A friendly reminder that your next loan instalment is coming up. Budgeting tools and flexible options are available in your app.", "intervention_type": "gentle_reminder"}'),
	('score_triggers', 'failed_transaction', '{"rule": "failed_transaction", "enabled": true, "min_amount": null, "description": "a failed transaction (e.g. a bounced auto-debit)", "min_interval": "00:00:00"}'),
	('score_triggers', 'large_amount', '{"rule": "large_amount", "enabled": true, "min_amount": 10000.00, "description": "a debit of at least min_amount", "min_interval": "00:00:00"}'),
	('score_triggers', 'atm_withdrawal', '{"rule": "atm_withdrawal", "enabled": true, "min_amount": null, "description": "a cash withdrawal at an ATM", "min_interval": "00:00:00"}'),
	('score_triggers', 'bill_payment', '{"rule": "bill_payment", "enabled": true, "min_amount": null, "description": "a utilities, rent, insurance or loan payment", "min_interval": "00:00:00"}'),
	('score_triggers', 'salary_credit', '{"rule": "salary_credit", "enabled": true, "min_amount": null, "description": "a salary credit (late or short salaries matter)", "min_interval": "00:00:00"}'),
	('score_triggers', 'every_transaction', '{"rule": "every_transaction", "enabled": false, "min_amount": null, "description": "every transaction: re-assess each touched customer once per batch", "min_interval": "00:00:00"}')
) v(table_name, key, seed);
REVOKE ALL ON seeded_config FROM PUBLIC;
-- read by the trigger below, as whoever inserts (an operator), and by pg_dump
GRANT SELECT ON seeded_config TO pre_delinquency_reader;

-- On restore (or any INSERT), a row whose key holds a seed still equal to
-- its default replaces it instead of failing on the key.
CREATE FUNCTION replace_seeded_row() RETURNS trigger
LANGUAGE plpgsql SET search_path = pre_delinquency, pg_catalog, pg_temp AS $$
BEGIN
	IF TG_TABLE_NAME = 'risk_levels' THEN
		-- updated in place: intervention_policies refers to it
		UPDATE risk_levels r SET min_score = NEW.min_score, severity = NEW.severity
		WHERE r.risk_level = NEW.risk_level
		  AND to_jsonb(r) = (SELECT s.seed FROM seeded_config s
		                     WHERE s.table_name = 'risk_levels' AND s.key = r.risk_level);
		IF FOUND THEN
			RETURN NULL;
		END IF;
	ELSIF TG_TABLE_NAME = 'intervention_policies' THEN
		DELETE FROM intervention_policies p
		WHERE p.risk_level = NEW.risk_level
		  AND to_jsonb(p) = (SELECT s.seed FROM seeded_config s
		                     WHERE s.table_name = 'intervention_policies' AND s.key = p.risk_level);
	ELSIF TG_TABLE_NAME = 'score_triggers' THEN
		DELETE FROM score_triggers t
		WHERE t.rule = NEW.rule
		  AND to_jsonb(t) = (SELECT s.seed FROM seeded_config s
		                     WHERE s.table_name = 'score_triggers' AND s.key = t.rule);
	END IF;
	RETURN NEW;
END $$;
COMMENT ON FUNCTION replace_seeded_row() IS
	'Internal: an inserted row replaces the seeded row of its key while that is still the default (restoring a dump).';
REVOKE ALL ON FUNCTION replace_seeded_row() FROM PUBLIC;
CREATE TRIGGER risk_levels_replace_seeded BEFORE INSERT ON risk_levels
	FOR EACH ROW EXECUTE FUNCTION replace_seeded_row();
CREATE TRIGGER intervention_policies_replace_seeded BEFORE INSERT ON intervention_policies
	FOR EACH ROW EXECUTE FUNCTION replace_seeded_row();
CREATE TRIGGER score_triggers_replace_seeded BEFORE INSERT ON score_triggers
	FOR EACH ROW EXECUTE FUNCTION replace_seeded_row();

SELECT pg_catalog.pg_extension_config_dump('risk_levels',
	'WHERE to_jsonb(risk_levels) NOT IN (SELECT seed FROM pre_delinquency.seeded_config WHERE table_name = ''risk_levels'')');
SELECT pg_catalog.pg_extension_config_dump('intervention_policies',
	'WHERE to_jsonb(intervention_policies) NOT IN (SELECT seed FROM pre_delinquency.seeded_config WHERE table_name = ''intervention_policies'')');
SELECT pg_catalog.pg_extension_config_dump('score_triggers',
	'WHERE to_jsonb(score_triggers) NOT IN (SELECT seed FROM pre_delinquency.seeded_config WHERE table_name = ''score_triggers'')');

-- ---------------------------------------------------------------------------
-- added in 0.2.0: scale-out: several databases each own a fixed set of partitions of
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
	OUT worker text, OUT mode text, OUT topic text, OUT owned text, OUT assigned integer[],
	OUT missing integer[], OUT topic_partitions integer)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pd_ingest_assignment'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION ingest_assignment_internal() IS 'Internal: what the ingest workers consume, from shared memory.';

CREATE VIEW ingest_assignment AS SELECT * FROM ingest_assignment_internal();
COMMENT ON VIEW ingest_assignment IS
	'What each ingest worker consumes (worker as in worker_status): mode (group: consumer-group rebalance; static: pre_delinquency.partitions), the owned partitions (its share of them with several ingest workers), those assigned, those the topic does not have, the topic''s partition count. No row for a worker before its first assignment.';

REVOKE ALL ON FUNCTION kafka_partition(text, integer), ingest_assignment_internal()
	FROM PUBLIC;
REVOKE ALL ON ingest_assignment FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kafka_partition(text, integer), ingest_assignment_internal()
	TO pre_delinquency_reader;
GRANT SELECT ON ingest_assignment TO pre_delinquency_reader;

-- ---------------------------------------------------------------------------
-- added in 0.2.0: covering indexes. The feature engine reads a customer's last
-- 120 days (six months of salary credits, of payments) as one range of these indexes;
-- with the columns it reads INCLUDEd, rows on all-visible heap pages come from
-- the index alone, as an index-only scan, instead of one heap page per
-- transaction (a random read each when the table is larger than memory).
-- Built here only while transactions is small (a fresh install, a test
-- database): on a big table the build would hold ingest for minutes, so the
-- update leaves the old indexes (the engine works with either) and says how
-- to build the new ones without blocking (docs/OPERATIONS.md).
-- ---------------------------------------------------------------------------
DO $covering$
BEGIN
	IF (SELECT count(*) FROM (SELECT FROM transactions LIMIT 1000000) AS t) < 1000000 THEN
		DROP INDEX transactions_customer_time_idx;
		CREATE INDEX transactions_customer_time_idx ON transactions (customer_id, txn_time)
			INCLUDE (amount, txn_type, category, channel, merchant_id, is_failed);
		DROP INDEX transactions_salary_idx;
		CREATE INDEX transactions_salary_idx ON transactions (customer_id, txn_time)
			INCLUDE (amount)
			WHERE txn_type = 'credit' AND category = 'salary' AND NOT is_failed;
	ELSE
		RAISE NOTICE 'transactions has over a million rows: its covering indexes were not built now'
			USING HINT = 'Build them without blocking ingest as docs/OPERATIONS.md ("Upgrading the extension") shows; until then features read the heap, as in 0.1.0.';
	END IF;
	IF (SELECT count(*) FROM (SELECT FROM payments LIMIT 1000000) AS p) < 1000000 THEN
		DROP INDEX payments_customer_due_idx;
		CREATE INDEX payments_customer_due_idx ON payments (customer_id, due_date)
			INCLUDE (kind, amount_due, paid_date, amount_paid);
	ELSE
		RAISE NOTICE 'payments has over a million rows: its covering index was not built now'
			USING HINT = 'Build it without blocking as docs/OPERATIONS.md ("Upgrading the extension") shows; until then features read the heap, as in 0.1.0.';
	END IF;
END
$covering$;
COMMENT ON INDEX transactions_customer_time_idx IS
	'The feature engine reads one customer''s recent history as one range of this index; the INCLUDEd columns let it skip the heap for all-visible pages.';
COMMENT ON INDEX transactions_salary_idx IS
	'Six months of salary credits for salary_missed_count_180d, read from the index alone (amount INCLUDEd) where the heap is all-visible.';
COMMENT ON INDEX payments_customer_due_idx IS
	'The payment features and the label read one customer''s range of due dates; the INCLUDEd columns let them skip the heap for all-visible pages.';

-- ---------------------------------------------------------------------------
-- added in 0.2.0: end-to-end latency per customer. The outbox rows of a batch
-- carry the earliest event time of their own customer's new events (was: of
-- the whole batch, which charged every row from the batch's first event), read
-- from the ingest worker's memory instead of a setting any session could set.
-- ---------------------------------------------------------------------------
CREATE FUNCTION source_event_time(customer_id uuid) RETURNS timestamptz
AS 'MODULE_PATHNAME', 'pd_source_event_time'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION source_event_time(uuid) IS
	'Internal: while the ingest worker re-assesses a batch, the earliest event_time among the customer''s new events; NULL otherwise.';
REVOKE ALL ON FUNCTION source_event_time(uuid) FROM PUBLIC;

CREATE OR REPLACE FUNCTION outbox_predictions() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pre_delinquency, pg_catalog, pg_temp AS $$
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
	       source_event_time(r.customer_id)
	FROM new_rows r ORDER BY r.score_id;
	RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION outbox_interventions() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pre_delinquency, pg_catalog, pg_temp AS $$
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
	       source_event_time(i.customer_id)
	FROM new_rows i ORDER BY i.created_at, i.intervention_id;
	RETURN NULL;
END $$;

-- added in 0.2.0: no planner statistics on the jsonb documents. Nothing filters
-- or joins on a prediction's top features or an event's payload, and ANALYZE
-- spends half its time on these two columns (comparing sampled documents) on
-- the tables that grow fastest, so autovacuum analyzes them at half the cost.
-- SET STATISTICS takes SHARE UPDATE EXCLUSIVE, which no worker's statement
-- conflicts with: not in the LOCK list.
ALTER TABLE risk_scores ALTER COLUMN top_features SET STATISTICS 0;
ALTER TABLE outbox ALTER COLUMN payload SET STATISTICS 0;

-- added in 0.2.0: the workers' own role. pre_delinquency.worker_role names a
-- LOGIN role the workers connect as instead of the bootstrap superuser;
-- granted pre_delinquency_worker it has what they need and no more: read the
-- bank, the model and the configuration, insert transactions, risk scores
-- and interventions, keep the stored offsets and empty the outbox. The
-- ledger, the dead letters, the outbox rows and the row locks the cooldown
-- and the foreign keys need are written or taken as their tables' owner by
-- the extension's own code and SECURITY DEFINER triggers. GRANT takes no
-- lock the workers wait on.
DO $roles$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pre_delinquency_worker') THEN
		CREATE ROLE pre_delinquency_worker NOLOGIN;
	END IF;
END
$roles$;
GRANT USAGE ON SCHEMA pre_delinquency TO pre_delinquency_worker;
GRANT SELECT ON customers, transactions, payments, models, risk_levels, intervention_policies,
	score_triggers, kafka_offsets, risk_scores, interventions, outbox TO pre_delinquency_worker;
GRANT INSERT ON transactions, risk_scores, interventions TO pre_delinquency_worker;
GRANT INSERT, UPDATE ON kafka_offsets TO pre_delinquency_worker;
GRANT DELETE ON outbox TO pre_delinquency_worker;

-- added in 0.2.0: the C functions that run SQL run it with search_path =
-- pg_catalog, pg_temp, as if SECURITY DEFINER functions (finding 9 of
-- docs/SECURITY.md). Their statements name the extension's schema but not
-- their operators and functions, which the caller's search_path resolves: an
-- operator for the exact argument types (text || uuid, numeric * integer) in
-- any schema on a privileged caller's path wins over pg_catalog's, which
-- needs a cast, and ran as that caller. ALTER FUNCTION takes no lock a
-- worker waits on (the workers pin their own search_path).
ALTER FUNCTION assess_customer(uuid) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION assess_all(timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION ingest_events(text[], text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION replay_dead_letters(text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION activate_model(integer) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION train_model(text, timestamptz, jsonb, integer) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION evaluate_model(integer, timestamptz, timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION generate_synthetic(integer, integer, integer, timestamptz) SET search_path = pg_catalog, pg_temp;

-- added in 0.2.0: the views over the bank's results read them as the
-- querying role (finding 10 of docs/SECURITY.md): as their owner, they showed
-- a reader rows that a row-level security policy on risk_scores or
-- interventions hides from it. Each reads only what a reader may read.
-- (pipeline_stats keeps its owner's rights: it shows a reader the outbox's
-- depth, not its rows.)
ALTER VIEW latest_risk SET (security_invoker = true);
ALTER VIEW risk_summary SET (security_invoker = true);
ALTER VIEW model_status SET (security_invoker = true);

-- added in 0.2.0: transactions and payments vacuumed after inserts of 1 %
-- of the table (PostgreSQL's default is 20 %). The feature engine reads a
-- customer's rows from the covering indexes alone only on heap pages the
-- visibility map marks all-visible, and only VACUUM marks them: with the
-- default, the newest fifth of an insert-only table is read from the heap
-- until the next vacuum, which for a table of two years or less is the
-- whole 120-day window the features read: about 40 % more CPU per customer
-- (3,000 customers with a year of history, 0.40 s against 0.28 s). A vacuum
-- of inserted rows visits only the pages not yet marked and, with nothing
-- deleted, skips the indexes. The setting takes
-- SHARE UPDATE EXCLUSIVE, which no worker's statement conflicts with; a DBA
-- may set their own (docs/OPERATIONS.md).
ALTER TABLE transactions SET (autovacuum_vacuum_insert_scale_factor = 0.01);
ALTER TABLE payments SET (autovacuum_vacuum_insert_scale_factor = 0.01);

-- added in 0.2.0: balance_ledger pages half filled. Every ingest batch adds
-- to two ledger rows of each customer it touches (the month's and the
-- total), and an update fits on the row's own page, as a HOT update, only
-- if the page has room: with full pages, nearly six in ten updates (with a
-- long-running transaction holding back pruning, nine in ten) also inserted
-- a new entry into the ledger's primary key. Half-filled pages made 97 % of
-- them HOT and the ingest worker's CPU per event about a quarter lower on a
-- bank of 10,000 customers (docs/OPERATIONS.md). New pages only: existing
-- ones keep their rows until VACUUM FULL pre_delinquency.balance_ledger.
-- SHARE UPDATE EXCLUSIVE, like the settings above.
ALTER TABLE balance_ledger SET (fillfactor = 50);
