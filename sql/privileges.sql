-- Roles: a reader scores and explains; an operator also assesses, activates
-- and edits policies; PUBLIC does nothing.
SET search_path = pre_delinquency, public;
SET client_min_messages = warning;

SELECT customers FROM generate_synthetic(20, 120, 13);
CREATE TEMP TABLE one AS SELECT customer_id FROM customers ORDER BY customer_id LIMIT 1;
GRANT SELECT ON one TO PUBLIC;
CREATE ROLE pd_regress_reader LOGIN IN ROLE pre_delinquency_reader;
CREATE ROLE pd_regress_operator2 LOGIN IN ROLE pre_delinquency_operator;
CREATE ROLE pd_regress_nobody LOGIN;

SET ROLE pd_regress_nobody;
SELECT pre_delinquency.score_customer((SELECT customer_id FROM one));
SELECT count(*) FROM pre_delinquency.customers;
RESET ROLE;

SET ROLE pd_regress_reader;
SELECT score_customer((SELECT customer_id FROM one)) BETWEEN 0 AND 1 AS reader_scores;
SELECT count(*) = 3 AS reader_explains
FROM explain_customer((SELECT customer_id FROM one), now(), 3);
SELECT count(*) > 0 AS reader_reads_views FROM risk_summary;
SELECT assess_customer((SELECT customer_id FROM one));
SELECT activate_model(1);
UPDATE intervention_policies SET enabled = false;
SELECT count(*) FROM balance_ledger;
RESET ROLE;

SET ROLE pd_regress_operator2;
SELECT (assess_customer((SELECT customer_id FROM one))).risk_level IS NOT NULL AS operator_assesses;
SELECT activate_model((SELECT model_id FROM models WHERE is_active));
SELECT count(*) = 1 AS one_active_model FROM models WHERE is_active;
UPDATE intervention_policies SET message_template = message_template WHERE risk_level = 'HIGH';
SELECT count(*) = 1 AS operator_sees_latest_risk FROM latest_risk;
-- an operator ingests bad events too (their dead letters are written as the
-- table's owner), and replays them, those that fail again updated in place
SELECT inserted, dead_letters FROM ingest_events(ARRAY['not json', NULL], 'privileges');
SELECT replay_dead_letters() AS replayed;
SELECT count(*) AS dead_letters_kept, max(replay_attempts) AS attempts
FROM dead_letters WHERE topic = 'privileges';
DELETE FROM dead_letters WHERE topic = 'privileges';
SET pre_delinquency.intervention_cooldown = '1d';
RESET ROLE;

DELETE FROM customers;
DELETE FROM outbox;  -- predictions of the customers just deleted
DROP ROLE pd_regress_reader;
DROP ROLE pd_regress_operator2;
DROP ROLE pd_regress_nobody;
