-- score_customer and explain_customer with the shipped model; activation,
-- the model cache across sessions, and bad models.
SET search_path = pre_delinquency, public;
SET client_min_messages = warning;

-- CREATE EXTENSION installed the shipped model as the active one
SELECT count(*) AS models, bool_and(is_active) AS active, bool_and((training->>'shipped')::boolean) AS shipped,
       bool_and(feature_names = feature_names()) AS same_features
FROM models;

SELECT customers FROM generate_synthetic(200, 240, 5, '2025-06-30 00:00+00');
CREATE TEMP TABLE first AS SELECT customer_id FROM customers ORDER BY customer_id LIMIT 1;
CREATE TEMP TABLE scored AS
SELECT customer_id, score_customer(customer_id, '2025-06-01 00:00+00') AS score
FROM customers;

-- probabilities, the same on every call, and not all alike
SELECT count(*) AS customers,
       bool_and(score >= 0 AND score <= 1) AS all_probabilities,
       count(DISTINCT score) > 50 AS varied,
       bool_and(score = score_customer(customer_id, '2025-06-01 00:00+00')) AS repeatable
FROM scored;

-- TreeSHAP: all contributions plus the bias are the margin (log-odds)
SELECT count(*) AS customers_checked,
       max(abs(m.total - ln(s.score / (1 - s.score)))) < 1e-4 AS contributions_sum_to_margin
FROM (SELECT * FROM scored ORDER BY customer_id LIMIT 25) s,
     LATERAL (SELECT sum(contribution) AS total
              FROM explain_customer(s.customer_id, '2025-06-01 00:00+00', NULL)) m;
-- 31 features and the bias; top_n the largest first; values are the features
SELECT count(*) AS rows, count(*) FILTER (WHERE feature = '(bias)') AS bias_rows
FROM explain_customer((SELECT customer_id FROM first), '2025-06-01 00:00+00', NULL);
SELECT count(*) AS top_rows,
       bool_and(abs(contribution) >= coalesce(next_abs, 0)) AS largest_first
FROM (SELECT contribution, abs(lead(contribution) OVER (ORDER BY ord)) AS next_abs
      FROM explain_customer((SELECT customer_id FROM first), '2025-06-01 00:00+00')
           WITH ORDINALITY e(feature, value, contribution, ord)) t;
SELECT bool_and(e.value = (to_jsonb(customer_features(c, '2025-06-01 00:00+00')) ->> e.feature)::float8)
       AS values_are_features
FROM (SELECT customer_id c FROM first) x,
     explain_customer(c, '2025-06-01 00:00+00', 31) e;

-- Risk levels come from the risk_levels table
SELECT s, risk_level(s) FROM unnest(ARRAY[0, 0.29999, 0.3, 0.4999, 0.5, 0.69999, 0.7, 1]::float8[]) s;

-- Activation: another session activates a model; this session uses it from
-- its next statement on (assess_customer records the model_id it used).
CREATE EXTENSION IF NOT EXISTS dblink;
INSERT INTO models (name, feature_names, booster)
SELECT 'copy of shipped', feature_names, booster FROM models WHERE is_active;
SELECT model_id AS first_model FROM assess_customer((SELECT customer_id FROM first));
SELECT * FROM dblink('dbname=' || current_database() || ' port=' || current_setting('port')
                     || ' host=' || split_part(current_setting('unix_socket_directories'), ',', 1),
                     'SELECT pre_delinquency.activate_model((SELECT max(model_id) FROM pre_delinquency.models))::text')
  AS other_session(activated text);
SELECT model_id = (SELECT max(model_id) FROM models) AS uses_newly_activated_model
FROM assess_customer((SELECT customer_id FROM first));
SELECT count(*) FILTER (WHERE is_active) AS active_models FROM models;
SELECT activate_model((SELECT min(model_id) FROM models));
SELECT (training->>'shipped')::boolean AS shipped_model_active FROM models WHERE is_active;

-- Bad models and bad input: clear errors, no crash
INSERT INTO models (name, feature_names, booster) VALUES
  ('corrupt', feature_names(), '\x000102ff'::bytea);
SELECT activate_model((SELECT model_id FROM models WHERE name = 'corrupt'));
INSERT INTO models (name, feature_names, booster)
SELECT 'wrong features', ARRAY(SELECT x FROM unnest(feature_names()) x ORDER BY x), booster
FROM models WHERE is_active;
SELECT activate_model((SELECT model_id FROM models WHERE name = 'wrong features'));
SELECT activate_model(-1);
SELECT (training->>'shipped')::boolean AS shipped_model_active FROM models WHERE is_active;
-- a corrupt booster written straight into the active row
BEGIN;
UPDATE models SET booster = '\x00'::bytea WHERE is_active;
SELECT score_customer((SELECT customer_id FROM first));
ROLLBACK;
-- no active model
BEGIN;
UPDATE models SET is_active = false;
SELECT score_customer((SELECT customer_id FROM first));
ROLLBACK;
SELECT score_customer('00000000-0000-0000-0000-0000000000ff');
SELECT score_customer(NULL);
SELECT * FROM explain_customer((SELECT customer_id FROM first), now(), -1);

DELETE FROM customers;
DELETE FROM outbox;  -- predictions of the customers just deleted
DELETE FROM models WHERE NOT is_active;
DROP EXTENSION dblink;
