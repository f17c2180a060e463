-- assess_customer and assess_all: risk_scores, interventions, the policy
-- as data, the cooldown and escalation.
SET search_path = pre_delinquency, public;
SET client_min_messages = warning;

-- a bank that ends now: assess_customer assesses as of now
SELECT customers FROM generate_synthetic(300, 240, 9);

-- The whole book: one risk_scores row per customer, levels from the table
SELECT assess_all() AS assessed;
SELECT count(*) AS risk_scores,
       count(DISTINCT customer_id) AS customers,
       bool_and(risk_level = risk_level(risk_score)) AS levels_match,
       bool_and(jsonb_array_length(top_features) = 5) AS five_top_features,
       bool_and(model_id = (SELECT model_id FROM models WHERE is_active)) AS active_model,
       bool_and(as_of = scored_at) AS as_of_now
FROM risk_scores;
-- assess_all agrees with score_customer
SELECT bool_and(abs(r.risk_score - score_customer(r.customer_id, r.as_of)) < 1e-12) AS same_scores
FROM risk_scores r;
-- assess_all's top features are explain_customer's exact TreeSHAP, bit for
-- bit (the batch groups rows per tree, see shap_batch.c), in the same order
SELECT count(*) FILTER (WHERE r.top_features IS DISTINCT FROM
         (SELECT jsonb_agg(jsonb_build_object('feature', e.feature, 'value', e.value::numeric,
                                              'contribution', e.contribution::numeric))
          FROM explain_customer(r.customer_id, r.as_of, 5) e)) AS top_features_not_explain
FROM risk_scores r;
-- interventions follow the policy rows, with the seed system's ids; LOW gets none
SELECT count(*) > 0 AS some_interventions,
       bool_and(i.intervention_type = p.intervention_type AND i.channel = p.channel
                AND i.priority = p.priority) AS as_the_policy_says,
       bool_and(i.intervention_id ~ ('^INT_' || i.customer_id || '_[0-9]{14}$')) AS id_format,
       bool_and(i.status = 'triggered') AS triggered,
       count(*) FILTER (WHERE i.risk_level = 'LOW') AS low_level_interventions,
       count(*) = (SELECT count(*) FROM risk_scores WHERE risk_level <> 'LOW') AS one_per_customer_above_low
FROM interventions i JOIN intervention_policies p USING (risk_level);
SELECT risk_level, intervention_type, channel, priority FROM intervention_policies ORDER BY priority;
SELECT count(*) > 0 AND bool_and(message !~ '[{}]') AS messages_filled_in
FROM interventions;
SELECT bool_and(cardinality(top_risk_factors) BETWEEN 1 AND 3) AS factors_listed
FROM interventions;
-- every prediction and intervention waits in the outbox for the relay, keyed
-- by customer, in the seed system's event shapes
SELECT (SELECT count(*) FROM outbox WHERE topic = 'predictions-stream') = (SELECT count(*) FROM risk_scores) AS predictions_in_outbox,
       (SELECT count(*) FROM outbox WHERE topic = 'interventions-stream') = (SELECT count(*) FROM interventions) AS interventions_in_outbox;
SELECT topic, array_agg(DISTINCT k ORDER BY k) AS payload_keys
FROM outbox, jsonb_object_keys(payload) k GROUP BY topic ORDER BY topic;
SELECT bool_and(o.message_key = r.customer_id::text AND (o.payload->>'risk_score')::float8 = r.risk_score
                AND o.payload->'top_features' = r.top_features) AS predictions_match_scores
FROM outbox o JOIN risk_scores r ON o.payload->>'event_id' = r.score_id::text
WHERE o.topic = 'predictions-stream';
SELECT bool_and(o.payload->>'status' = 'triggered' AND o.payload->>'event_type' = 'intervention')
       AS interventions_triggered
FROM outbox o WHERE o.topic = 'interventions-stream';
-- assess_all writes risk_scores and their events without the per-row
-- triggers (risk_bulk.c): each event is exactly what outbox_predictions()
-- builds from its row, bar event_time (the clock when it was written)
CREATE TEMP VIEW predictions_as_trigger_builds AS
SELECT count(*) AS predictions,
       count(*) FILTER (WHERE o.payload - 'event_time' = jsonb_build_object(
           'event_id', r.score_id::text, 'customer_id', r.customer_id,
           'risk_score', r.risk_score, 'risk_level', r.risk_level,
           'top_features', r.top_features, 'model_id', r.model_id,
           'timestamp', r.scored_at, 'event_type', 'prediction')
         AND (o.payload->>'event_time')::timestamptz BETWEEN r.scored_at AND o.created_at
         AND o.source_event_time IS NULL) AS as_the_trigger_builds
FROM outbox o JOIN risk_scores r ON o.payload->>'event_id' = r.score_id::text
WHERE o.topic = 'predictions-stream';
SELECT predictions = (SELECT count(*) FROM risk_scores) AS every_score, predictions = as_the_trigger_builds AS same_events
FROM predictions_as_trigger_builds;
-- ... and with a trigger of the DBA's on risk_scores, through INSERT: the
-- trigger fires, the events are the same
CREATE FUNCTION public.regress_scored() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'regress trigger saw % new risk scores', (SELECT count(*) FROM new_rows);
  RETURN NULL;
END $$;
CREATE TRIGGER regress_scored AFTER INSERT ON risk_scores
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.regress_scored();
DELETE FROM outbox;
DELETE FROM risk_scores;
SET client_min_messages = notice;
SELECT assess_all() AS assessed_through_insert;
SET client_min_messages = warning;
DROP TRIGGER regress_scored ON risk_scores;
DROP FUNCTION public.regress_scored();
SELECT predictions = (SELECT count(*) FROM risk_scores) AS every_score, predictions = as_the_trigger_builds AS same_events
FROM predictions_as_trigger_builds;

-- a second pass within the cooldown adds no intervention
CREATE TEMP TABLE before_count AS SELECT count(*) AS n FROM interventions;
SELECT assess_all() AS assessed_again;
SELECT (SELECT count(*) FROM interventions) - n AS new_interventions FROM before_count;

-- Cooldown and escalation, on the riskiest customer (whatever its level):
-- a prior intervention of a lower level does not hold back, one of the same
-- level within the cooldown does, one older than the cooldown does not.
CREATE TEMP TABLE top AS
SELECT r.customer_id, r.risk_level, l.severity
FROM risk_scores r JOIN risk_levels l USING (risk_level)
ORDER BY r.risk_score DESC LIMIT 1;
SELECT severity >= 1 AS riskiest_customer_is_above_low FROM top;
CREATE FUNCTION pg_temp.prior(level text, age interval) RETURNS void LANGUAGE sql AS $$
  DELETE FROM pre_delinquency.interventions WHERE customer_id = (SELECT customer_id FROM top);
  INSERT INTO pre_delinquency.interventions
    (intervention_id, customer_id, created_at, risk_score, risk_level, intervention_type,
     channel, priority, message)
  SELECT 'INT_' || customer_id || '_' || to_char((now() - age) AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISS'),
         customer_id, now() - age, 0.5, level, 'test', 'email', 9, 'prior'
  FROM top $$;
CREATE FUNCTION pg_temp.assessed_creates() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pre_delinquency.assess_customer((SELECT customer_id FROM top));
  RETURN (SELECT count(*) = 2 FROM pre_delinquency.interventions
          WHERE customer_id = (SELECT customer_id FROM top));
END $$;
SET pre_delinquency.intervention_cooldown = '7d';
SELECT pg_temp.prior((SELECT risk_level FROM risk_levels WHERE severity = (SELECT severity - 1 FROM top)), '1 hour');
SELECT pg_temp.assessed_creates() AS escalation_from_lower_level;
SELECT pg_temp.prior((SELECT risk_level FROM top), '1 hour');
SELECT pg_temp.assessed_creates() AS same_level_within_cooldown;
SELECT pg_temp.prior('CRITICAL', '2 hours');
SELECT pg_temp.assessed_creates() AS after_higher_level_within_cooldown;
SELECT pg_temp.prior((SELECT risk_level FROM top), '8 days');
SELECT pg_temp.assessed_creates() AS same_level_after_cooldown;
SET pre_delinquency.intervention_cooldown = '10d';
SELECT pg_temp.prior((SELECT risk_level FROM top), '8 days');
SELECT pg_temp.assessed_creates() AS same_level_within_longer_cooldown;
RESET pre_delinquency.intervention_cooldown;
SHOW pre_delinquency.intervention_cooldown;

-- Behaviour is data: a disabled policy triggers nothing
UPDATE intervention_policies SET enabled = false;
SELECT pg_temp.prior('LOW', '1 hour');
SELECT pg_temp.assessed_creates() AS created_with_policies_disabled;
UPDATE intervention_policies SET enabled = true;

-- assess_customer returns the risk_scores row it recorded
CREATE TEMP TABLE returned AS SELECT * FROM assess_customer((SELECT customer_id FROM top));
SELECT r.score_id = (SELECT max(score_id) FROM risk_scores) AS returns_recorded_row,
       r.risk_level = risk_level(r.risk_score) AS level_matches,
       r.top_features = (SELECT top_features FROM risk_scores WHERE score_id = r.score_id) AS same_top_features
FROM returned r;

-- Bad input
SELECT assess_customer('00000000-0000-0000-0000-0000000000ff');
SELECT assess_customer(NULL);
SELECT assess_all(NULL);
SET pre_delinquency.intervention_cooldown = '-1';
BEGIN;
DELETE FROM intervention_policies WHERE risk_level = 'LOW';
DELETE FROM risk_levels WHERE risk_level = 'LOW';
SELECT assess_customer((SELECT customer_id FROM top));
ROLLBACK;

-- A new connection's first rows take XGBoost's own TreeSHAP, the rows from
-- the 128th on the per-tree groups (shap_batch.c): the same top features
-- as explain_customer either way, bit for bit
\c
SET search_path = pre_delinquency, public;
SET client_min_messages = warning;
CREATE TEMP TABLE one_by_one AS
SELECT a.*
FROM (SELECT customer_id FROM customers ORDER BY customer_id LIMIT 200) c,
     LATERAL assess_customer(c.customer_id) a;
SELECT count(*) AS assessed_one_by_one,
       count(*) FILTER (WHERE r.top_features IS DISTINCT FROM
         (SELECT jsonb_agg(jsonb_build_object('feature', e.feature, 'value', e.value::numeric,
                                              'contribution', e.contribution::numeric))
          FROM explain_customer(r.customer_id, r.as_of, 5) e)) AS top_features_not_explain
FROM one_by_one r;

DELETE FROM customers;
DELETE FROM outbox;  -- predictions of the customers just deleted
