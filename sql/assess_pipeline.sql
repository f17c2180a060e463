-- assess_all scores and writes the book in batches of 256 customers as
-- their features come, while a parallel worker computes the next ones. The
-- rows, events and interventions are those of the same call without
-- workers (everything computed in the backend, one step after the other).
SET search_path = pre_delinquency, public;
SET client_min_messages = warning;

SELECT customers FROM generate_synthetic(5200, 45, 31, '2025-06-30 00:00+00');
SELECT count(*) > 5000 AS several_batches FROM customers;

CREATE TEMP TABLE runs (workers int, started timestamptz);
CREATE FUNCTION pg_temp.assess_with(workers int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  DELETE FROM interventions;  -- so the cooldown holds nothing back
  PERFORM set_config('pre_delinquency.assess_parallel_workers', workers::text, true);
  INSERT INTO runs VALUES (workers, now());
  SELECT assess_all('2025-06-20 00:00+00') INTO n;
  CREATE TEMP TABLE IF NOT EXISTS run_interventions AS
    SELECT 0 AS workers, * FROM interventions WITH NO DATA;
  INSERT INTO run_interventions SELECT workers, * FROM interventions;
  RETURN n;
END $$;
SELECT pg_temp.assess_with(0) = (SELECT count(*) FROM customers) AS assessed_alone;
SELECT pg_temp.assess_with(1) = (SELECT count(*) FROM customers) AS assessed_overlapped;

CREATE TEMP VIEW run_scores AS
SELECT u.workers, r.* FROM risk_scores r JOIN runs u ON r.scored_at = u.started;
-- every customer once per run, the same score, level and top features
SELECT workers, count(*) AS rows, count(DISTINCT customer_id) = count(*) AS once_each
FROM run_scores GROUP BY workers ORDER BY workers;
SELECT count(*) AS customers,
       count(*) FILTER (WHERE a.risk_score = b.risk_score AND a.risk_level = b.risk_level
                        AND a.top_features = b.top_features AND a.model_id = b.model_id)
         AS same_assessment
FROM run_scores a JOIN run_scores b USING (customer_id)
WHERE a.workers = 0 AND b.workers = 1;
-- score ids in the order of the customers, as one INSERT would number them
SELECT workers, bool_and(score_id = first_id + rank - 1) AS ids_in_customer_order
FROM (SELECT workers, score_id, min(score_id) OVER w AS first_id,
             rank() OVER (w ORDER BY customer_id)
      FROM run_scores WINDOW w AS (PARTITION BY workers)) s
GROUP BY workers ORDER BY workers;
-- one prediction event per row, as the trigger builds it
SELECT r.workers, count(*) AS events,
       bool_and(o.payload - 'event_time' = jsonb_build_object(
           'event_id', r.score_id::text, 'customer_id', r.customer_id,
           'risk_score', r.risk_score, 'risk_level', r.risk_level,
           'top_features', r.top_features, 'model_id', r.model_id,
           'timestamp', r.scored_at, 'event_type', 'prediction')
                AND o.message_key = r.customer_id::text) AS as_the_trigger_builds
FROM outbox o JOIN run_scores r ON o.payload->>'event_id' = r.score_id::text
WHERE o.topic = 'predictions-stream'
GROUP BY r.workers ORDER BY r.workers;
-- the same interventions (their ids carry the second they were made)
SELECT count(*) > 0 AS some_interventions,
       count(*) = (SELECT count(*) FROM run_interventions WHERE workers = 1) AS as_many,
       count(*) FILTER (WHERE b.customer_id IS NOT NULL) = count(*) AS the_same
FROM run_interventions a
LEFT JOIN run_interventions b
  ON b.workers = 1 AND (b.customer_id, b.risk_score, b.risk_level, b.intervention_type,
                        b.channel, b.priority, b.message, b.top_risk_factors)
                    = (a.customer_id, a.risk_score, a.risk_level, a.intervention_type,
                       a.channel, a.priority, a.message, a.top_risk_factors)
WHERE a.workers = 0;

-- An error while a batch is written with the workers running (a check of
-- the DBA's that the 3,000th customer's row fails) ends the call like any
-- error: nothing of it stays, and the session goes on.
DELETE FROM outbox;
DELETE FROM interventions;
DELETE FROM risk_scores;
SELECT format('ALTER TABLE risk_scores ADD CONSTRAINT regress_refuse CHECK (customer_id <> %L)',
              customer_id) AS refuse
FROM customers ORDER BY customer_id OFFSET 2999 LIMIT 1 \gset
:refuse;
SET pre_delinquency.assess_parallel_workers = 1;
\set VERBOSITY terse
SELECT assess_all('2025-06-20 00:00+00');
\set VERBOSITY default
SELECT (SELECT count(*) FROM risk_scores) AS risk_scores, (SELECT count(*) FROM outbox) AS outbox,
       (SELECT count(*) FROM interventions) AS interventions;
ALTER TABLE risk_scores DROP CONSTRAINT regress_refuse;
SELECT assess_all('2025-06-20 00:00+00') = (SELECT count(*) FROM customers) AS assessed_after;
SELECT count(*) AS before FROM risk_scores \gset
-- ... and so does a cancel (here a statement timeout) wherever it comes
SET statement_timeout = '100ms';
\set VERBOSITY terse
SELECT assess_all('2025-06-20 00:00+00');
\set VERBOSITY default
RESET statement_timeout;
SELECT (SELECT count(*) FROM risk_scores) - :'before' AS risk_scores_after_cancel;
RESET pre_delinquency.assess_parallel_workers;
DELETE FROM outbox;
DELETE FROM interventions;
DELETE FROM risk_scores;
