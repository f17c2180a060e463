-- The security review's catalog checks (docs/SECURITY.md): PUBLIC can use
-- nothing, the reader only reads, scores and explains, the operator runs
-- the bank, SECURITY DEFINER functions pin search_path with pg_temp last,
-- dead letters are the operator's only, the secret setting is hidden, and
-- the input size limits hold. Every query lists violations: no rows = ok.
SET client_min_messages = warning;
LOAD 'pre_delinquency';

-- 1. PUBLIC: no privilege on the schema, its relations or its functions
SELECT 'schema' AS kind, n.nspname::text AS object, a.privilege_type
FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
WHERE n.nspname = 'pre_delinquency' AND a.grantee = 0
UNION ALL
SELECT 'relation', c.relname::text, a.privilege_type
FROM pg_class c,
     aclexplode(coalesce(c.relacl, acldefault((CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END)::"char",
                                              c.relowner))) a
WHERE c.relnamespace = 'pre_delinquency'::regnamespace AND a.grantee = 0
UNION ALL
SELECT 'function', p.oid::regprocedure::text, a.privilege_type
FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
WHERE p.pronamespace = 'pre_delinquency'::regnamespace AND a.grantee = 0
ORDER BY 1, 2, 3;

-- 2. The reader writes nothing, anywhere in the schema
SELECT c.relname, w.privilege
FROM pg_class c, unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER',
                              'REFERENCES']) w(privilege)
WHERE c.relnamespace = 'pre_delinquency'::regnamespace AND c.relkind IN ('r', 'v', 'p', 'm')
  AND has_table_privilege('pre_delinquency_reader', c.oid, w.privilege)
ORDER BY 1, 2;

-- What each role may do, relation by relation (r = SELECT, a = INSERT,
-- w = UPDATE, d = DELETE); a change here is a change of the security model.
SELECT c.relname,
       concat_ws('', CASE WHEN has_table_privilege('pre_delinquency_reader', c.oid, 'SELECT') THEN 'r' END)
           AS reader,
       concat_ws('', CASE WHEN has_table_privilege('pre_delinquency_operator', c.oid, 'SELECT') THEN 'r' END,
                 CASE WHEN has_table_privilege('pre_delinquency_operator', c.oid, 'INSERT') THEN 'a' END,
                 CASE WHEN has_table_privilege('pre_delinquency_operator', c.oid, 'UPDATE') THEN 'w' END,
                 CASE WHEN has_table_privilege('pre_delinquency_operator', c.oid, 'DELETE') THEN 'd' END)
           AS operator,
       concat_ws('', CASE WHEN has_table_privilege('pre_delinquency_worker', c.oid, 'SELECT') THEN 'r' END,
                 CASE WHEN has_table_privilege('pre_delinquency_worker', c.oid, 'INSERT') THEN 'a' END,
                 CASE WHEN has_table_privilege('pre_delinquency_worker', c.oid, 'UPDATE') THEN 'w' END,
                 CASE WHEN has_table_privilege('pre_delinquency_worker', c.oid, 'DELETE') THEN 'd' END)
           AS worker
FROM pg_class c
WHERE c.relnamespace = 'pre_delinquency'::regnamespace AND c.relkind IN ('r', 'v', 'p', 'm')
ORDER BY 1;

-- ... and function by function, with the function's volatility: every
-- function the reader may run only reads (STABLE / IMMUTABLE), except the
-- three that read the workers' shared-memory counters.
SELECT p.oid::regprocedure AS function, p.provolatile AS vol,
       has_function_privilege('pre_delinquency_reader', p.oid, 'EXECUTE') AS reader,
       has_function_privilege('pre_delinquency_operator', p.oid, 'EXECUTE') AS operator
FROM pg_proc p
WHERE p.pronamespace = 'pre_delinquency'::regnamespace AND p.prorettype <> 'trigger'::regtype
ORDER BY p.proname;
SELECT p.oid::regprocedure AS reader_runs_a_volatile_function
FROM pg_proc p
WHERE p.pronamespace = 'pre_delinquency'::regnamespace AND p.provolatile = 'v'
  AND has_function_privilege('pre_delinquency_reader', p.oid, 'EXECUTE')
  AND p.proname NOT IN ('worker_status_internal', 'pipeline_counters', 'partition_watermarks');

-- The operator assesses, trains, activates and edits the policies
SELECT f AS operator_lacks
FROM unnest(ARRAY['assess_customer(uuid)', 'assess_all(timestamptz)',
                  'train_model(text,timestamptz,jsonb,integer)', 'activate_model(integer)',
                  'replay_dead_letters(text)', 'ingest_events(text[],text)']) f
WHERE NOT has_function_privilege('pre_delinquency_operator', 'pre_delinquency.' || f, 'EXECUTE')
UNION ALL
SELECT t || ' ' || p
FROM unnest(ARRAY['risk_levels', 'intervention_policies']) t,
     unnest(ARRAY['INSERT', 'UPDATE', 'DELETE']) p
WHERE NOT has_table_privilege('pre_delinquency_operator', 'pre_delinquency.' || t, p);

-- The workers' role (pre_delinquency.worker_role) changes no customer,
-- payment, model, policy or trigger rule and runs no function: beyond reading
-- and inserting, it only keeps its offsets and empties the outbox
SELECT c.relname, w.privilege AS worker_may
FROM pg_class c, unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER', 'REFERENCES']) w(privilege)
WHERE c.relnamespace = 'pre_delinquency'::regnamespace AND c.relkind IN ('r', 'v', 'p', 'm')
  AND has_table_privilege('pre_delinquency_worker', c.oid, w.privilege)
  AND (c.relname, w.privilege) NOT IN (('kafka_offsets', 'UPDATE'), ('outbox', 'DELETE'))
ORDER BY 1, 2;
SELECT p.oid::regprocedure AS worker_executes
FROM pg_proc p
WHERE p.pronamespace = 'pre_delinquency'::regnamespace
  AND has_function_privilege('pre_delinquency_worker', p.oid, 'EXECUTE');

-- 3. SECURITY DEFINER functions pin search_path, pg_temp last; so does
-- every function not written in C (C functions name the schema in their SQL),
-- and every C function that runs SQL pins pg_catalog, pg_temp
SELECT p.oid::regprocedure AS unpinned, p.prosecdef, p.proconfig
FROM pg_proc p
WHERE p.pronamespace = 'pre_delinquency'::regnamespace
  AND (p.prosecdef OR p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c'))
  AND NOT EXISTS (SELECT FROM unnest(p.proconfig) s
                  WHERE s ~ '^search_path=pre_delinquency, pg_catalog, pg_temp$');
SELECT f AS c_function_running_sql_unpinned
FROM unnest(ARRAY['assess_customer(uuid)', 'assess_all(timestamptz)', 'ingest_events(text[],text)',
                  'replay_dead_letters(text)', 'activate_model(integer)',
                  'train_model(text,timestamptz,jsonb,integer)',
                  'evaluate_model(integer,timestamptz,timestamptz)',
                  'generate_synthetic(integer,integer,integer,timestamptz)']) f
WHERE NOT EXISTS (SELECT FROM pg_proc p, unnest(p.proconfig) s
                  WHERE p.oid = ('pre_delinquency.' || f)::regprocedure
                    AND s = 'search_path=pg_catalog, pg_temp');
SELECT count(*) > 0 AS has_security_definer_functions
FROM pg_proc WHERE pronamespace = 'pre_delinquency'::regnamespace AND prosecdef;

-- A temporary table cannot capture what a SECURITY DEFINER trigger writes:
-- an operator's temporary balance_ledger and outbox stay empty.
CREATE ROLE pd_sec_operator LOGIN IN ROLE pre_delinquency_operator;
CREATE ROLE pd_sec_reader LOGIN IN ROLE pre_delinquency_reader;
CREATE ROLE pd_sec_nobody LOGIN;
SET ROLE pd_sec_operator;
CREATE TEMP TABLE balance_ledger (customer_id uuid, month date, net_cents bigint,
                                  PRIMARY KEY (customer_id, month));
CREATE TEMP TABLE outbox (outbox_id bigint GENERATED ALWAYS AS IDENTITY, topic text,
                          message_key text, payload jsonb, source_event_time timestamptz,
                          created_at timestamptz);
INSERT INTO pre_delinquency.customers VALUES
  ('5ec00000-0000-4000-8000-000000000001', 40000, 5, 'middle', 'salary', '2024-01-01', 1000, 0);
INSERT INTO pre_delinquency.transactions VALUES
  ('5ec00000-0000-4000-8000-0000000000e1', '5ec00000-0000-4000-8000-000000000001',
   '2025-06-01 10:00+00', 125.50, 'debit', 'groceries', 'card', NULL, false);
SELECT (pre_delinquency.assess_customer('5ec00000-0000-4000-8000-000000000001')).risk_level IS NOT NULL
    AS assessed;
SELECT (SELECT count(*) FROM pg_temp.balance_ledger) AS captured_ledger_rows,
       (SELECT count(*) FROM pg_temp.outbox) AS captured_outbox_rows;
RESET ROLE;
SELECT count(*) AS real_ledger_rows FROM pre_delinquency.balance_ledger
WHERE customer_id = '5ec00000-0000-4000-8000-000000000001';
SELECT count(*) AS real_outbox_rows FROM pre_delinquency.outbox
WHERE message_key = '5ec00000-0000-4000-8000-000000000001';

-- 4. Dead letters (raw payloads may hold personal data): the operator only
SELECT has_table_privilege('pre_delinquency_operator', 'pre_delinquency.dead_letters', 'SELECT')
           AS operator_reads,
       has_table_privilege('pre_delinquency_reader', 'pre_delinquency.dead_letters', 'SELECT')
           AS reader_reads,
       has_table_privilege('pd_sec_nobody', 'pre_delinquency.dead_letters', 'SELECT')
           AS public_reads;
SET ROLE pd_sec_reader;
SELECT count(*) FROM pre_delinquency.dead_letters;
SELECT count(*) FROM pre_delinquency.outbox;
SELECT pre_delinquency.replay_dead_letters();
RESET ROLE;

-- 5. pre_delinquency.kafka_properties: superusers only, in no view
SET ROLE pd_sec_reader;
SHOW pre_delinquency.kafka_properties;
SELECT current_setting('pre_delinquency.kafka_properties');
SELECT count(*) AS visible_in_pg_settings FROM pg_settings
WHERE name = 'pre_delinquency.kafka_properties';
SELECT count(*) FROM pg_file_settings;
RESET ROLE;
SELECT count(*) AS visible_to_superuser_in_pg_settings FROM pg_settings
WHERE name = 'pre_delinquency.kafka_properties';
SELECT name, context, 'superuser only, hidden' AS shown
FROM pg_show_all_settings() WHERE name = 'pre_delinquency.kafka_properties';

-- 6. Input size limits
-- an event larger than 64 kB is a dead letter without being parsed; a
-- merchant_id longer than 64 bytes is one too
SELECT inserted, dead_letters FROM pre_delinquency.ingest_events(ARRAY[
  '{"customer_id": "5ec00000-0000-4000-8000-000000000001", "txn_time": "2025-06-02T10:00:00Z", "amount": 5, "txn_type": "debit", "category": "dining", "channel": "upi", "merchant_id": "' || repeat('m', 65536) || '"}',
  '{"customer_id": "5ec00000-0000-4000-8000-000000000001", "txn_time": "2025-06-02T10:00:00Z", "amount": 5, "txn_type": "debit", "category": "dining", "channel": "upi", "merchant_id": "' || repeat('m', 65) || '"}',
  '{"customer_id": "5ec00000-0000-4000-8000-000000000001", "txn_time": "2025-06-02T10:00:00Z", "amount": 5, "txn_type": "debit", "category": "dining", "channel": "upi", "merchant_id": "' || repeat('m', 64) || '"}'
], 'security');
SELECT reason, length(payload) > 65536 AS raw_kept, detail
FROM pre_delinquency.dead_letters WHERE topic = 'security' ORDER BY dead_letter_id;
-- text an operator writes
\set VERBOSITY terse
SET ROLE pd_sec_operator;
UPDATE pre_delinquency.intervention_policies SET message_template = repeat('a', 2001)
WHERE risk_level = 'HIGH';
UPDATE pre_delinquency.intervention_policies SET message_template = ''
WHERE risk_level = 'HIGH';
UPDATE pre_delinquency.intervention_policies SET intervention_type = repeat('t', 65)
WHERE risk_level = 'HIGH';
INSERT INTO pre_delinquency.risk_levels VALUES (repeat('L', 33), 0.9, 9);
UPDATE pre_delinquency.models SET name = repeat('n', 201) WHERE is_active;
BEGIN;  -- at the limit: accepted
UPDATE pre_delinquency.intervention_policies SET message_template = message_template || repeat('.', 2000 - length(message_template))
WHERE risk_level = 'HIGH';
ROLLBACK;
RESET ROLE;
\set VERBOSITY default

-- 7. An operator's own operators never run as the extension's owner. The
-- statements the C code runs as a table's owner (the foreign-key and cooldown
-- row locks, the ledger upsert) name their tables' schema, but operators are
-- looked up in the search path: an operator = (uuid, uuid) or + (bigint,
-- bigint) of the caller's, ahead of pg_catalog, ran as the owner (superuser)
-- until they pinned search_path. Each call of the impostors is logged with
-- the role it ran as. All in one transaction, rolled back.
BEGIN;
-- every score MEDIUM or above: every assessment is an intervention candidate
UPDATE pre_delinquency.risk_levels SET min_score = 0.000001 WHERE risk_level = 'MEDIUM';
CREATE ROLE pd_sec_mallory LOGIN IN ROLE pre_delinquency_operator;
CREATE SCHEMA pd_sec_evil AUTHORIZATION pd_sec_mallory;
SET ROLE pd_sec_mallory;
CREATE TABLE pd_sec_evil.calls (op text, as_role text);
CREATE FUNCTION pd_sec_evil.uuid_eq(uuid, uuid) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO pd_sec_evil.calls VALUES ('=', current_user); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE FUNCTION pd_sec_evil.int8_add(bigint, bigint) RETURNS bigint LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO pd_sec_evil.calls VALUES ('+', current_user); RETURN $1 OPERATOR(pg_catalog.+) $2; END $$;
CREATE OPERATOR pd_sec_evil.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = pd_sec_evil.uuid_eq);
CREATE OPERATOR pd_sec_evil.+ (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = pd_sec_evil.int8_add);
-- and two exact matches for what pg_catalog has only with a cast, for a
-- privileged caller who has this schema on its path (finding 9)
CREATE FUNCTION pd_sec_evil.text_uuid(text, uuid) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO pd_sec_evil.calls VALUES ('||', current_user); RETURN $1 OPERATOR(pg_catalog.||) $2::text; END $$;
CREATE FUNCTION pd_sec_evil.numeric_int(numeric, integer) RETURNS numeric LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO pd_sec_evil.calls VALUES ('*', current_user); RETURN $1 OPERATOR(pg_catalog.*) $2::numeric; END $$;
CREATE OPERATOR pd_sec_evil.|| (LEFTARG = text, RIGHTARG = uuid, FUNCTION = pd_sec_evil.text_uuid);
CREATE OPERATOR pd_sec_evil.* (LEFTARG = numeric, RIGHTARG = integer, FUNCTION = pd_sec_evil.numeric_int);
SET search_path = pd_sec_evil, pg_catalog;
SELECT '5ec00000-0000-4000-8000-000000000001'::uuid = '5ec00000-0000-4000-8000-000000000001'
    AS impostor_armed;
SELECT count(*) FROM pre_delinquency.generate_synthetic(40, 150, 9);
SELECT inserted FROM pre_delinquency.ingest_events(ARRAY[
  '{"customer_id": "5ec00000-0000-4000-8000-000000000001", "txn_time": "2025-06-04T10:00:00Z", "amount": 7, "txn_type": "debit", "category": "dining", "channel": "upi", "is_failed": false}',
  '{"customer_id": "5ec00000-0000-4000-8000-000000000001", "txn_time": "2025-06-04T11:00:00Z", "amount": 9, "txn_type": "debit", "category": "dining", "channel": "upi", "is_failed": false}'
], 'security');
SELECT pre_delinquency.assess_all() > 0 AS assessed;
SELECT count(*) > 0 AS interventions_made FROM pre_delinquency.interventions;
RESET search_path;
RESET ROLE;
-- the superuser, with that schema on its path (pg_catalog first, implicitly)
SET search_path = pd_sec_evil;
SELECT inserted FROM pre_delinquency.ingest_events(ARRAY[
  '{"customer_id": "5ec00000-0000-4000-8000-000000000001", "txn_time": "2025-06-04T12:00:00Z", "amount": 11, "txn_type": "debit", "category": "dining", "channel": "upi", "is_failed": false}'
], 'security');
SET pre_delinquency.intervention_cooldown = 0;
SELECT pre_delinquency.assess_all() > 0 AS superuser_assessed;
RESET pre_delinquency.intervention_cooldown;
RESET search_path;
SELECT count(*) FILTER (WHERE as_role <> 'pd_sec_mallory') AS impostor_calls_as_another_role,
       count(*) FILTER (WHERE as_role = 'pd_sec_mallory') > 0 AS impostors_do_run_for_mallory
FROM pd_sec_evil.calls;
ROLLBACK;

-- 8. The views over results read as the querying role (finding 10): a
-- row-level security policy hiding risk_scores from readers hides them in
-- latest_risk, risk_summary and model_status too.
BEGIN;
ALTER TABLE pre_delinquency.risk_scores ENABLE ROW LEVEL SECURITY;
CREATE POLICY pd_sec_hide ON pre_delinquency.risk_scores FOR SELECT
  TO pre_delinquency_reader USING (false);
SELECT count(*) > 0 AS there_are_scores_to_hide FROM pre_delinquency.latest_risk;
SET ROLE pd_sec_reader;
SELECT (SELECT count(*) FROM pre_delinquency.risk_scores) AS table_rows,
       (SELECT count(*) FROM pre_delinquency.latest_risk) AS latest_risk_rows,
       (SELECT sum(customers) FROM pre_delinquency.risk_summary) AS summarised,
       (SELECT sum(scores_recorded) FROM pre_delinquency.model_status) AS scores_recorded;
RESET ROLE;
ROLLBACK;

-- clean up
DROP TABLE pg_temp.balance_ledger, pg_temp.outbox;
DELETE FROM pre_delinquency.dead_letters WHERE topic = 'security';
DELETE FROM pre_delinquency.customers WHERE customer_id = '5ec00000-0000-4000-8000-000000000001';
DELETE FROM pre_delinquency.outbox WHERE message_key = '5ec00000-0000-4000-8000-000000000001';
DROP ROLE pd_sec_operator;
DROP ROLE pd_sec_reader;
DROP ROLE pd_sec_nobody;
