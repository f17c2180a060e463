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
-- Boosters XGBoost loads but whose trees point outside themselves: XGBoost
-- checks no index and would read out of bounds when scoring (a crash, and
-- with the workers preloaded one at every restart). Refused when loaded, by
-- activate_model and evaluate_model alike; the valid model they are made
-- from scores.
\set tiny '{"learner":{"attributes":{"best_iteration":"1","best_ntree_limit":"2"},"feature_names":[],"feature_types":[],"gradient_booster":{"model":{"gbtree_model_param":{"num_parallel_tree":"1","num_trees":"2","size_leaf_vector":"0"},"tree_info":[0,0],"trees":[{"base_weights":[-0.03960396,-0.9498069,1.5436242,-1.58,1.1111112,-0.6666667,1.9069767],"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],"default_left":[1,1,1,0,0,0,0],"id":0,"left_children":[1,3,5,-1,-1,-1,-1],"loss_changes":[147.0131,85.85132,31.18734,0.0,0.0,0.0,0.0],"parents":[2147483647,0,0,1,1,2,2],"right_children":[2,4,6,-1,-1,-1,-1],"split_conditions":[0.64314777,0.7420765,0.20642075,-0.47400004,0.33333337,-0.20000002,0.572093],"split_indices":[3,0,0,0,0,0,0],"split_type":[0,0,0,0,0,0,0],"sum_hessian":[100.0,63.75,36.25,49.0,14.75,5.0,31.25],"tree_param":{"num_deleted":"0","num_feature":"31","num_nodes":"7","size_leaf_vector":"0"}},{"base_weights":[-0.02597634,-0.8984379,0.99162406,-1.5184565,0.34299895,-0.7730726,1.487252],"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],"default_left":[1,1,1,0,0,0,0],"id":1,"left_children":[1,3,5,-1,-1,-1,-1],"loss_changes":[85.65259,40.48923,40.110863,0.0,0.0,0.0,0.0],"parents":[2147483647,0,0,1,1,2,2],"right_children":[2,4,6,-1,-1,-1,-1],"split_conditions":[0.53692365,0.62261784,0.24200892,-0.45553696,0.10289969,-0.23192179,0.4461756],"split_indices":[3,0,0,0,0,0,0],"split_type":[0,0,0,0,0,0,0],"sum_hessian":[94.47199,50.92632,43.545673,33.814827,17.111492,9.42564,34.120033],"tree_param":{"num_deleted":"0","num_feature":"31","num_nodes":"7","size_leaf_vector":"0"}}]},"name":"gbtree"},"learner_model_param":{"base_score":"5E-1","boost_from_average":"0","num_class":"0","num_feature":"31","num_target":"1"},"objective":{"name":"binary:logistic","reg_loss_param":{"scale_pos_weight":"1"}}},"version":[1,7,6]}'
\set tree '{learner,gradient_booster,model,trees,0}'
INSERT INTO models (name, feature_names, booster)
SELECT name, feature_names(), convert_to(model::text, 'UTF8')
FROM (VALUES
  ('tiny', :'tiny'::jsonb),
  ('feature out of range', jsonb_set(:'tiny'::jsonb, (:'tree'::text[] || '{split_indices,0}'::text[]), '2000000000')),
  ('feature 31', jsonb_set(:'tiny'::jsonb, (:'tree'::text[] || '{split_indices,0}'::text[]), '31')),
  ('child out of range', jsonb_set(:'tiny'::jsonb, (:'tree'::text[] || '{left_children,0}'::text[]), '200000000')),
  ('cycle', jsonb_set(jsonb_set(:'tiny'::jsonb, (:'tree'::text[] || '{left_children,3}'::text[]), '0'),
                      (:'tree'::text[] || '{right_children,3}'::text[]), '4')),
  ('short array', jsonb_set(:'tiny'::jsonb, (:'tree'::text[] || '{split_indices}'::text[]), '[3, 0]')),
  ('wrong parent', jsonb_set(:'tiny'::jsonb, (:'tree'::text[] || '{parents,4}'::text[]), '2'))
) m(name, model);
SELECT activate_model(model_id) FROM models WHERE name = 'feature out of range';
SELECT activate_model(model_id) FROM models WHERE name = 'feature 31';
SELECT activate_model(model_id) FROM models WHERE name = 'child out of range';
SELECT activate_model(model_id) FROM models WHERE name = 'cycle';
SELECT activate_model(model_id) FROM models WHERE name = 'short array';
SELECT activate_model(model_id) FROM models WHERE name = 'wrong parent';
SELECT evaluate_model(model_id, '-infinity', 'infinity') FROM models WHERE name = 'child out of range';
SELECT activate_model(model_id) FROM models WHERE name = 'tiny';
SELECT score_customer((SELECT customer_id FROM first)) BETWEEN 0 AND 1 AS tiny_model_scores;
-- Loading models started no OpenMP thread in this backend (XGBoost loads
-- with OpenMP's default team, set to xgboost_nthread, 1, before it does)
SELECT count(*) AS backend_threads FROM pg_ls_dir('/proc/' || pg_backend_pid() || '/task');
SELECT activate_model((SELECT min(model_id) FROM models));
DELETE FROM models WHERE name IN ('tiny', 'feature out of range', 'feature 31', 'child out of range',
                                  'cycle', 'short array', 'wrong parent');
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
