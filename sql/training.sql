-- train_model and evaluate_model on a small synthetic bank, and the model
-- shipped with the extension. Outputs are booleans, key lists and rounded
-- counts, so retraining the shipped model does not churn this file.
SET client_min_messages = warning;
-- Nothing may depend on the session's TimeZone: run in one that is not UTC.
SET TimeZone = 'America/New_York';

-- CREATE EXTENSION installs the shipped model (models/pre_delinquency_model.json)
-- as the active one: see it in a database of its own.
SELECT current_database() AS regress_db \gset
CREATE DATABASE regress_pd_training_shipped;
\c regress_pd_training_shipped
SET client_min_messages = warning;
CREATE EXTENSION pre_delinquency;
SELECT name, is_active FROM pre_delinquency.models;
SELECT feature_names = pre_delinquency.feature_names() AS same_features,
       (training->>'shipped')::boolean AS shipped,
       metrics ?& ARRAY['roc_auc', 'pr_auc', 'log_loss', 'brier', 'ece',
                        'calibration', 'baseline'] AS has_metrics,
       (metrics->>'roc_auc')::float8 > (metrics->'baseline'->>'roc_auc')::float8
         AS beats_composite_roc_auc,
       (metrics->>'pr_auc')::float8 > (metrics->'baseline'->>'pr_auc')::float8
         AS beats_composite_pr_auc
FROM pre_delinquency.models;
\c :regress_db
DROP DATABASE regress_pd_training_shipped;
SET client_min_messages = warning;
SET TimeZone = 'America/New_York';
SET search_path = pre_delinquency, public;

-- Everything below runs in one transaction that is rolled back: train_model
-- reads every customer, so other suites' customers step aside meanwhile.
-- ON_ERROR_ROLLBACK keeps the transaction alive through the expected errors.
BEGIN;
\set ON_ERROR_ROLLBACK on
DELETE FROM customers;
SELECT customers FROM generate_synthetic(300, 400, 31, '2025-06-30 00:00+00');
SELECT model_id AS shipped_id FROM models WHERE (training->>'shipped')::boolean \gset

-- The same data and seed give the same booster, byte for byte; another seed
-- another split, sample and booster
SELECT train_model('regress a', '2025-06-30 00:00+00') AS m1 \gset
SELECT train_model('regress a again', '2025-06-30 00:00+00', '{}', 42) AS m2 \gset
SELECT train_model('regress b', '2025-06-30 00:00+00', '{}', 7) AS m3 \gset
SELECT a.booster = b.booster AS same_seed_same_booster,
       a.booster <> c.booster AS other_seed_other_booster,
       a.params = b.params AND a.metrics = b.metrics AS same_params_and_metrics,
       a.training - 'features_seconds' - 'training_seconds'
         = b.training - 'features_seconds' - 'training_seconds' AS same_training,
       a.training->'n_test' <> c.training->'n_test' AS other_split,
       length(a.booster) > 10000 AS has_trees,
       substring(a.booster FROM 1 FOR 1) = '{'::bytea AS ubj_object
FROM models a, models b, models c
WHERE a.model_id = :m1 AND b.model_id = :m2 AND c.model_id = :m3;

-- Stored, not activated; the features are feature_names()
SELECT name, is_active, feature_names = feature_names() AS same_features
FROM models WHERE model_id IN (:m1, :m3) ORDER BY model_id;

-- The effective parameters: defaults, the seed, rounds
SELECT params->>'objective' AS objective, params->>'tree_method' AS tree_method,
       params->'max_depth' AS max_depth, params->'num_boost_round' AS rounds,
       params->'seed' AS seed, params->'nthread' AS nthread,
       (params->>'base_score')::float8 BETWEEN 0.01 AND 0.3 AS base_score_is_the_rate,
       params->>'monotone_constraints' ~ '^\((-?[01],){30}-?[01]\)$' AS monotone_for_31
FROM models WHERE model_id = :m1;

-- Metrics on the held-out 20% of customers: every key, every value in range
SELECT array_agg(k ORDER BY k) AS metric_keys
FROM models, jsonb_object_keys(metrics) k WHERE model_id = :m1;
SELECT (m->>'roc_auc')::float8 BETWEEN 0.7 AND 0.99 AS roc_auc_ok,
       (m->>'pr_auc')::float8 BETWEEN (m->>'positives_rate')::float8 AND 1 AS pr_auc_above_chance,
       (m->>'log_loss')::float8 BETWEEN 0 AND ln(2) AS log_loss_ok,
       (m->>'brier')::float8 BETWEEN 0 AND 0.25 AS brier_ok,
       (m->>'ece')::float8 BETWEEN 0 AND 0.1 AS ece_ok,
       (m->>'positives_rate')::float8 BETWEEN 0.02 AND 0.25 AS positives_rate_ok,
       (m->>'positives')::int = round((m->>'n')::int * (m->>'positives_rate')::float8) AS positives_counted,
       (m->>'n')::int = (m->>'n_test')::int AS n_is_n_test,
       (m->'baseline'->>'score') AS baseline,
       (m->'baseline'->>'roc_auc')::float8 BETWEEN 0.5 AND 1 AS baseline_roc_auc_ok,
       (m->'baseline'->>'pr_auc')::float8 BETWEEN 0 AND 1 AS baseline_pr_auc_ok
FROM (SELECT metrics AS m FROM models WHERE model_id = :m1) s;
-- the calibration table: 10 bins of [0, 1] that hold every observation
SELECT count(*) AS bins,
       array_agg((b->>'bin')::int ORDER BY (b->>'bin')::int) = ARRAY[1,2,3,4,5,6,7,8,9,10] AS numbered,
       sum((b->>'n')::int) = min((m->>'n_test')::int) AS holds_every_observation,
       bool_and(b->'mean_predicted' = 'null' OR (b->>'mean_predicted')::float8
                BETWEEN (b->>'lower')::float8 AND (b->>'upper')::float8) AS means_in_their_bins,
       bool_and(b->'observed_rate' = 'null' OR (b->>'observed_rate')::float8 BETWEEN 0 AND 1) AS rates_ok,
       abs(sum((b->>'n')::int * abs((b->>'mean_predicted')::float8 - (b->>'observed_rate')::float8))
           FILTER (WHERE (b->>'n')::int > 0) / min((m->>'n_test')::int)
           - min((m->>'ece')::float8)) < 1e-4 AS ece_from_bins
FROM (SELECT metrics AS m FROM models WHERE model_id = :m1) s,
     jsonb_array_elements(m->'calibration') b;
-- feature importance: total gain of features the model splits on, largest first
SELECT count(*) BETWEEN 5 AND 31 AS features_used,
       bool_and(f->>'feature' = ANY (feature_names())) AS known_features,
       abs(sum((f->>'share')::float8) - 1) < 1e-4 AS shares_sum_to_1,
       bool_and((f->>'total_gain')::float8 > 0) AS gains_positive,
       array_agg((f->>'total_gain')::float8 ORDER BY i)
         = array_agg((f->>'total_gain')::float8 ORDER BY (f->>'total_gain')::float8 DESC) AS largest_first
FROM models, jsonb_array_elements(metrics->'feature_importance') WITH ORDINALITY x(f, i)
WHERE model_id = :m1;

-- What it was trained on
SELECT array_agg(k ORDER BY k) AS training_keys
FROM models, jsonb_object_keys(training) k WHERE model_id = :m1;
SELECT t->>'train_end' AS train_end, left(t->>'data_start', 10) AS data_start_day,
       t->>'as_of_from' AS as_of_from,
       (t->>'as_of_to')::timestamptz = (t->>'data_end')::timestamptz - interval '840 hours' AS as_of_to_ok,
       t->'seed' AS seed,
       (t->>'customers_train')::int + (t->>'customers_test')::int = 300 AS every_customer,
       (t->>'customers_test')::int BETWEEN 40 AND 80 AS about_a_fifth_held_out,
       (t->>'n_train')::int + (t->>'n_test')::int BETWEEN 300 * 5 AND 300 * 8 AS five_to_eight_each,
       (t->>'positives_test')::int = (metrics->>'positives')::int AS positives_match
FROM (SELECT training AS t, metrics FROM models WHERE model_id = :m1) s;

-- User parameters override the defaults and are stored as given
SELECT train_model('regress c', '2025-06-30 00:00+00',
                   '{"max_depth": 2, "eta": 0.2, "num_boost_round": 20, "subsample": 1,
                     "monotone_constraints": "()", "grow_policy": "lossguide"}') AS m4 \gset
SELECT params->'max_depth' AS max_depth, params->'eta' AS eta, params->'num_boost_round' AS rounds,
       params->>'grow_policy' AS grow_policy, params->>'monotone_constraints' AS monotone,
       length(booster) < (SELECT length(booster) FROM models WHERE model_id = :m1) AS smaller
FROM models WHERE model_id = :m4;

-- A train_end earlier in the data: fewer observations, none later than it
SELECT train_model('regress early', '2025-03-31 00:00+00') AS m5 \gset
SELECT (training->>'as_of_to')::timestamptz = '2025-03-31 00:00+00'::timestamptz - interval '840 hours' AS as_of_to_ok,
       (training->>'n_train')::int < (SELECT (training->>'n_train')::int FROM models WHERE model_id = :m1) AS fewer
FROM models WHERE model_id = :m5;

-- evaluate_model: every customer of the window, the same metrics and baseline
SELECT evaluate_model(:m1, '-infinity', 'infinity') AS e \gset
SELECT array_agg(k ORDER BY k) AS evaluation_keys
FROM jsonb_object_keys(:'e'::jsonb) k;
SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(:'e'::jsonb) k
        WHERE k NOT IN ('model_id', 'customers', 'data_start', 'data_end', 'as_of_from',
                        'as_of_to', 'sampling'))
       = (SELECT array_agg(k ORDER BY k) FROM models, jsonb_object_keys(metrics) k
          WHERE model_id = :m1 AND k NOT IN ('n_train', 'n_test', 'feature_importance'))
         AS same_metrics_as_train_model,
       (e->>'model_id')::int = :m1 AS model_id_ok,
       (e->>'customers')::int = 300 AS every_customer,
       (e->>'n')::int > (SELECT (training->>'n_test')::int FROM models WHERE model_id = :m1) AS more_than_held_out,
       (e->>'roc_auc')::float8 BETWEEN 0.7 AND 0.99 AS roc_auc_ok,
       (e->>'ece')::float8 < 0.1 AS ece_ok,
       (e->'baseline'->>'roc_auc')::float8 BETWEEN 0.5 AND 1 AS baseline_ok,
       jsonb_array_length(e->'calibration') AS bins,
       e->>'as_of_from' AS as_of_from, e->'sampling'->'offset_seed' AS offset_seed
FROM (SELECT :'e'::jsonb AS e) s;
-- the same observations for every model, and repeatable
SELECT evaluate_model(:m1, '-infinity', 'infinity') = :'e'::jsonb AS repeatable,
       (evaluate_model(:m3, '-infinity', 'infinity')->>'n')::int = (:'e'::jsonb->>'n')::int AS same_observations,
       (evaluate_model(:m3, '-infinity', 'infinity')->'baseline') = :'e'::jsonb->'baseline' AS same_baseline;
-- a window: as_of in [from_time, to_time]; the end stays 35 days from the data's end
SELECT e->>'as_of_from' AS as_of_from, e->>'as_of_to' AS as_of_to,
       (e->>'n')::int < (:'e'::jsonb->>'n')::int AS fewer
FROM (SELECT evaluate_model(:m1, '2025-01-01 00:00+00', '2025-03-01 00:00+00') AS e) s;
SELECT e->>'as_of_to' = :'e'::jsonb->>'as_of_to' AS end_held_back
FROM (SELECT evaluate_model(:m1, '2025-01-01 00:00+00', '2025-06-30 00:00+00') AS e) s;
-- any stored model, active or not: the shipped one on this bank
SELECT (e->>'roc_auc')::float8 BETWEEN 0.7 AND 0.99 AS shipped_model_ranks,
       (e->>'ece')::float8 < 0.1 AS shipped_model_calibrated
FROM (SELECT evaluate_model(:shipped_id, '-infinity', 'infinity') AS e) s;

-- A trained model activates and scores, TreeSHAP included
SELECT activate_model(:m1);
SELECT score_customer(customer_id, '2025-06-01 00:00+00') BETWEEN 0 AND 1 AS scores,
       (SELECT count(*) FROM explain_customer(customer_id, '2025-06-01 00:00+00', NULL)) AS contributions
FROM customers ORDER BY customer_id LIMIT 1;
SELECT activate_model(:shipped_id);

-- Deeper trees (up to 31 splits: assess_all's grouped TreeSHAP keys their
-- signatures by hashing, not by a table of 2^splits): still explain_customer's
-- contributions bit for bit
SELECT train_model('regress deep', '2025-06-30 00:00+00',
                   '{"max_depth": 5, "num_boost_round": 20, "min_child_weight": 1,
                     "gamma": 0, "lambda": 1}') AS m6 \gset
SAVEPOINT deep;
SELECT activate_model(:m6);
SELECT assess_all('2025-06-01 00:00+00') = (SELECT count(*) FROM customers) AS deep_assessed;
SELECT count(*) = (SELECT count(*) FROM customers) AS deep_rows,
       count(*) FILTER (WHERE r.top_features IS DISTINCT FROM
         (SELECT jsonb_agg(jsonb_build_object('feature', e.feature, 'value', e.value::numeric,
                                              'contribution', e.contribution::numeric))
          FROM explain_customer(r.customer_id, r.as_of, 5) e)) AS deep_top_features_not_explain
FROM risk_scores r WHERE model_id = :m6;
ROLLBACK TO SAVEPOINT deep;

-- An operator trains; a reader evaluates but does not train
CREATE ROLE regress_pd_trainer IN ROLE pre_delinquency_operator;
CREATE ROLE regress_pd_evaluator IN ROLE pre_delinquency_reader;
SET ROLE regress_pd_trainer;
SELECT train_model('regress operator', '2025-06-30 00:00+00', '{"num_boost_round": 5}') > 0 AS operator_trains;
RESET ROLE;
SET ROLE regress_pd_evaluator;
SELECT (evaluate_model(:m1, '-infinity', 'infinity')->>'n')::int > 0 AS reader_evaluates;
SELECT train_model('regress reader', '2025-06-30 00:00+00');
RESET ROLE;

-- Bad input: clear errors
SELECT train_model(NULL, '2025-06-30 00:00+00');
SELECT train_model('x', NULL);
SELECT train_model('x', '2025-06-30 00:00+00', NULL);
SELECT train_model('x', '2025-06-30 00:00+00', '{}', NULL);
SELECT train_model('', '2025-06-30 00:00+00');
SELECT train_model('x', '2024-09-01 00:00+00');
SELECT train_model('x', '-infinity');
SELECT train_model('x', '2025-06-30 00:00+00', '[1, 2]');
SELECT train_model('x', '2025-06-30 00:00+00', '3');
SELECT train_model('x', '2025-06-30 00:00+00', '{"max_depth": null}');
SELECT train_model('x', '2025-06-30 00:00+00', '{"max_depth": [3]}');
SELECT train_model('x', '2025-06-30 00:00+00', '{"num_boost_round": 0}');
SELECT train_model('x', '2025-06-30 00:00+00', '{"num_boost_round": 2.5}');
SELECT train_model('x', '2025-06-30 00:00+00', '{"num_boost_round": "300"}');
SELECT train_model('x', '2025-06-30 00:00+00', '{"nthread": 2000}');
SELECT train_model('x', '2025-06-30 00:00+00', '{"objective": "reg:squarederror"}');
SELECT train_model('x', '2025-06-30 00:00+00', '{"booster": "gblinear"}');
SELECT train_model('x', '2025-06-30 00:00+00', '{"max_dept": 3}');
SELECT train_model('x', '2025-06-30 00:00+00', '{"max_depth": -1}');
SELECT train_model('x', '2025-06-30 00:00+00', '{"eta": "fast"}');
SELECT train_model('x', '2025-06-30 00:00+00', '{"subsample": 2}');
SELECT train_model('x', '2025-06-30 00:00+00', '{"tree_method": "magic"}');
SELECT evaluate_model(NULL, '-infinity', 'infinity');
SELECT evaluate_model(:m1, NULL, 'infinity');
SELECT evaluate_model(:m1, '-infinity', NULL);
SELECT evaluate_model(-1, '-infinity', 'infinity');
SELECT evaluate_model(:m1, '2025-03-01 00:00+00', '2025-01-01 00:00+00');
SELECT evaluate_model(:m1, '2020-01-01 00:00+00', '2020-02-01 00:00+00');
-- the SQLSTATEs
\set VERBOSITY sqlstate
SELECT train_model(NULL, '2025-06-30 00:00+00');
SELECT train_model('x', '2024-09-01 00:00+00');
SELECT train_model('x', '2025-06-30 00:00+00', '{"max_depth": null}');
SELECT train_model('x', '2025-06-30 00:00+00', '{"max_dept": 3}');
SELECT train_model('x', '2025-06-30 00:00+00', '{"max_depth": -1}');
SELECT evaluate_model(-1, '-infinity', 'infinity');
SELECT evaluate_model(:m1, '2020-01-01 00:00+00', '2020-02-01 00:00+00');
\set VERBOSITY default
-- no customers at all
DELETE FROM customers;
SELECT train_model('x', '2025-06-30 00:00+00');
SELECT evaluate_model(:m1, '-infinity', 'infinity');

ROLLBACK;
\unset ON_ERROR_ROLLBACK
SELECT count(*) AS regress_models_left FROM models WHERE name LIKE 'regress%';
RESET TimeZone;
RESET client_min_messages;
