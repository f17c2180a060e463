-- ingest_events: the ingest worker's path without Kafka. Valid events become
-- transactions once, bad ones dead letters with a reason, triggers re-assess.
SET search_path = pre_delinquency, public;
SET client_min_messages = warning;

INSERT INTO customers VALUES
  ('c0000000-0000-4000-8000-000000000001', 50000, 5, 'middle', 'salary', '2024-01-01', 20000, 1000),
  ('c0000000-0000-4000-8000-000000000002', 30000, 1, 'low', 'savings', '2024-01-01', 500, 0);
UPDATE score_triggers SET enabled = false WHERE rule <> 'failed_transaction';

-- Valid events, one twice, and one without event_id (its id comes from its content)
SELECT * FROM ingest_events(ARRAY[
  '{"event_id": "e0000000-0000-4000-8000-000000000001", "customer_id": "c0000000-0000-4000-8000-000000000001", "txn_time": "2025-06-01T10:00:00Z", "amount": 1250.5, "txn_type": "debit", "category": "groceries", "channel": "card", "merchant_id": "M000001", "is_failed": false, "event_time": "2025-06-01T10:00:01Z", "event_type": "transaction"}',
  '{"event_id": "e0000000-0000-4000-8000-000000000001", "customer_id": "c0000000-0000-4000-8000-000000000001", "txn_time": "2025-06-01T10:00:00Z", "amount": 1250.5, "txn_type": "debit", "category": "groceries", "channel": "card", "merchant_id": "M000001", "is_failed": false}',
  '{"customer_id": "c0000000-0000-4000-8000-000000000002", "txn_time": "2025-06-02 08:30:00+05:30", "amount": 30000, "txn_type": "credit", "category": "salary", "channel": "netbanking", "merchant_id": null, "is_failed": false}'
]);
SELECT event_id::text LIKE 'e0000000%' AS given_id, customer_id, txn_time AT TIME ZONE 'UTC' AS txn_time_utc,
       amount, txn_type, category, channel, merchant_id, is_failed
FROM transactions ORDER BY txn_time;
-- the same events again: nothing new
SELECT inserted, duplicates, dead_letters FROM ingest_events(ARRAY[
  '{"customer_id": "c0000000-0000-4000-8000-000000000002", "txn_time": "2025-06-02 08:30:00+05:30", "amount": 30000, "txn_type": "credit", "category": "salary", "channel": "netbanking", "merchant_id": null, "is_failed": false}'
]);

-- Bad events: each a dead letter with its reason, none lost, the batch goes on
SELECT inserted, dead_letters, received FROM ingest_events(ARRAY[
  '{"customer_id": "c0000000-0000-4000-8000-000000000001", "txn_time": "2025-06-03T10:00:00Z", "amount": 10, "txn_type": "debit", "category": "dining", "channel": "upi", "is_failed": false',
  'not json at all',
  '{"customer_id": "c0000000-0000-4000-8000-000000000001", "txn_time": "2025-06-03T10:00:00Z", "amount": "ten", "txn_type": "debit", "category": "dining", "channel": "upi", "is_failed": false}',
  '{"customer_id": "c0000000-0000-4000-8000-000000000001", "txn_time": "2025-06-03T10:00:00Z", "amount": -5, "txn_type": "debit", "category": "dining", "channel": "upi", "is_failed": false}',
  '{"customer_id": "c0000000-0000-4000-8000-000000000001", "txn_time": "2025-06-03T10:00:00Z", "amount": 1e300, "txn_type": "debit", "category": "dining", "channel": "upi", "is_failed": false}',
  '{"customer_id": "c0000000-0000-4000-8000-000000000001", "txn_time": "2025-06-03T10:00:00Z", "amount": 5, "txn_type": "debit", "category": "salary", "channel": "upi", "is_failed": false}',
  '{"customer_id": "c0000000-0000-4000-8000-000000000001", "txn_time": "2025-06-03T10:00:00Z", "amount": 5, "txn_type": "gift", "category": "dining", "channel": "upi", "is_failed": false}',
  '{"customer_id": "c0000000-0000-4000-8000-000000000001", "txn_time": "2025-06-03T10:00:00Z", "amount": 5, "txn_type": "debit", "category": "dining", "channel": "pigeon", "is_failed": false}',
  '{"customer_id": "c0000000-0000-4000-8000-000000000001", "txn_time": "not a time", "amount": 5, "txn_type": "debit", "category": "dining", "channel": "upi", "is_failed": false}',
  '{"txn_time": "2025-06-03T10:00:00Z", "amount": 5, "txn_type": "debit", "category": "dining", "channel": "upi", "is_failed": false}',
  '{"customer_id": "c0000000-0000-4000-8000-0000000000ff", "txn_time": "2025-06-03T10:00:00Z", "amount": 5, "txn_type": "debit", "category": "dining", "channel": "upi", "is_failed": false}',
  '{"customer_id": "c0000000-0000-4000-8000-000000000001", "txn_time": "2999-06-03T10:00:00Z", "amount": 5, "txn_type": "debit", "category": "dining", "channel": "upi", "is_failed": false}',
  NULL,
  repeat('x', 70000)
]);
SELECT reason, count(*) FROM dead_letters GROUP BY reason ORDER BY reason;
SELECT count(*) FILTER (WHERE payload IS NOT NULL) AS raw_payloads_kept,
       bool_and(detail IS NOT NULL) AS every_one_says_why
FROM dead_letters;

-- The unknown customer arrives: replaying its dead letter now ingests it;
-- the others stay, counted
INSERT INTO customers VALUES
  ('c0000000-0000-4000-8000-0000000000ff', 40000, 10, 'middle', 'savings', '2024-01-01', 1000, 0);
SELECT replay_dead_letters('unknown%') AS replayed;
SELECT replay_dead_letters() AS replayed_again;
SELECT count(*) AS dead_letters_left, max(replay_attempts) AS attempts FROM dead_letters;
SELECT count(*) AS transactions_of_new_customer FROM transactions
WHERE customer_id = 'c0000000-0000-4000-8000-0000000000ff';

-- Triggers: a failed autodebit re-assesses its customer (a risk score, and
-- a prediction in the outbox); a grocery purchase does not
SELECT assessed FROM ingest_events(ARRAY[
  '{"customer_id": "c0000000-0000-4000-8000-000000000001", "txn_time": "2025-06-05T06:00:00Z", "amount": 8000, "txn_type": "debit", "category": "loan_payment", "channel": "autodebit", "merchant_id": null, "is_failed": true}',
  '{"customer_id": "c0000000-0000-4000-8000-000000000002", "txn_time": "2025-06-05T07:00:00Z", "amount": 80, "txn_type": "debit", "category": "groceries", "channel": "pos", "merchant_id": "M9", "is_failed": false}'
]);
SELECT customer_id, as_of AT TIME ZONE 'UTC' AS as_of_utc FROM risk_scores;
SELECT topic, message_key FROM outbox ORDER BY outbox_id;
-- every_transaction re-assesses each touched customer once per batch
UPDATE score_triggers SET enabled = true WHERE rule = 'every_transaction';
SELECT assessed FROM ingest_events(ARRAY[
  '{"customer_id": "c0000000-0000-4000-8000-000000000002", "txn_time": "2025-06-06T07:00:00Z", "amount": 80, "txn_type": "debit", "category": "groceries", "channel": "pos", "merchant_id": "M9", "is_failed": false}',
  '{"customer_id": "c0000000-0000-4000-8000-000000000002", "txn_time": "2025-06-06T08:00:00Z", "amount": 20, "txn_type": "debit", "category": "dining", "channel": "pos", "merchant_id": "M8", "is_failed": false}'
]);
-- Each outbox row carries the earliest event_time of its own customer's new
-- events in the batch (the start of its end-to-end latency); no event_time, none
DELETE FROM outbox;
SELECT assessed FROM ingest_events(ARRAY[
  '{"customer_id": "c0000000-0000-4000-8000-000000000001", "txn_time": "2025-06-06T09:00:00Z", "amount": 15, "txn_type": "debit", "category": "dining", "channel": "pos", "is_failed": false, "event_time": "2025-06-06T09:00:05Z"}',
  '{"customer_id": "c0000000-0000-4000-8000-000000000002", "txn_time": "2025-06-06T09:00:00Z", "amount": 16, "txn_type": "debit", "category": "dining", "channel": "pos", "is_failed": false, "event_time": "2025-06-06T09:00:03Z"}',
  '{"customer_id": "c0000000-0000-4000-8000-000000000001", "txn_time": "2025-06-06T09:01:00Z", "amount": 17, "txn_type": "debit", "category": "dining", "channel": "pos", "is_failed": false, "event_time": "2025-06-06T09:00:04Z"}'
]);
SELECT message_key, source_event_time AT TIME ZONE 'UTC' AS source_event_time_utc
FROM outbox ORDER BY message_key;
SELECT source_event_time('c0000000-0000-4000-8000-000000000001') AS outside_a_batch;
-- ... unless assessed within min_interval
UPDATE score_triggers SET min_interval = '1 hour' WHERE rule = 'every_transaction';
SELECT assessed FROM ingest_events(ARRAY[
  '{"customer_id": "c0000000-0000-4000-8000-000000000002", "txn_time": "2025-06-07T07:00:00Z", "amount": 80, "txn_type": "debit", "category": "groceries", "channel": "pos", "merchant_id": "M9", "is_failed": false}'
]);

-- A row the database refuses (a constraint the DBA added) is isolated in
-- its own subtransaction and dead-lettered; the rest of the batch goes in
ALTER TABLE transactions ADD CONSTRAINT regress_small_amounts CHECK (amount < 100000);
SELECT inserted, dead_letters FROM ingest_events(ARRAY[
  '{"customer_id": "c0000000-0000-4000-8000-000000000002", "txn_time": "2025-06-08T07:00:00Z", "amount": 200000, "txn_type": "debit", "category": "rent", "channel": "netbanking", "is_failed": false}',
  '{"customer_id": "c0000000-0000-4000-8000-000000000002", "txn_time": "2025-06-08T08:00:00Z", "amount": 20, "txn_type": "debit", "category": "dining", "channel": "pos", "is_failed": false}'
]);
SELECT reason, detail FROM dead_letters WHERE reason = 'rejected_by_database';
ALTER TABLE transactions DROP CONSTRAINT regress_small_amounts;

-- Without an active model the events still go in; re-assessment only warns
SET client_min_messages = warning;
BEGIN;
UPDATE models SET is_active = false;
SELECT inserted, assessed FROM ingest_events(ARRAY[
  '{"customer_id": "c0000000-0000-4000-8000-000000000002", "txn_time": "2025-06-09T07:00:00Z", "amount": 20, "txn_type": "debit", "category": "dining", "channel": "pos", "is_failed": true}'
]);
ROLLBACK;

-- Events go in through a bulk path while transactions is as installed, and
-- through INSERT when the DBA added a trigger (which then fires); either
-- way balance_ledger holds exactly the sums of the successful transactions
SELECT inserted, duplicates FROM ingest_events(ARRAY[
  '{"customer_id": "c0000000-0000-4000-8000-000000000001", "txn_time": "2025-07-31T23:59:59Z", "amount": 10.01, "txn_type": "debit", "category": "dining", "channel": "pos", "is_failed": false}',
  '{"customer_id": "c0000000-0000-4000-8000-000000000001", "txn_time": "2025-08-01T00:00:00Z", "amount": 20, "txn_type": "credit", "category": "refund", "channel": "online", "is_failed": false}',
  '{"customer_id": "c0000000-0000-4000-8000-000000000001", "txn_time": "2025-08-02T00:00:00Z", "amount": 999, "txn_type": "debit", "category": "rent", "channel": "netbanking", "is_failed": true}',
  '{"event_id": "e0000000-0000-4000-8000-0000000000aa", "customer_id": "c0000000-0000-4000-8000-000000000002", "txn_time": "2025-08-03T00:00:00Z", "amount": 5, "txn_type": "debit", "category": "dining", "channel": "upi", "is_failed": false}',
  '{"event_id": "e0000000-0000-4000-8000-0000000000aa", "customer_id": "c0000000-0000-4000-8000-000000000002", "txn_time": "2025-08-03T00:00:00Z", "amount": 5, "txn_type": "debit", "category": "dining", "channel": "upi", "is_failed": false}'
]);
CREATE FUNCTION public.regress_seen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'regress trigger saw % new transactions', (SELECT count(*) FROM new_rows);
  RETURN NULL;
END $$;
CREATE TRIGGER regress_seen AFTER INSERT ON transactions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.regress_seen();
SET client_min_messages = notice;
SELECT inserted, duplicates FROM ingest_events(ARRAY[
  '{"customer_id": "c0000000-0000-4000-8000-000000000002", "txn_time": "2025-08-04T00:00:00Z", "amount": 7.5, "txn_type": "debit", "category": "dining", "channel": "upi", "is_failed": false}',
  '{"customer_id": "c0000000-0000-4000-8000-000000000002", "txn_time": "2025-09-01T00:00:00Z", "amount": 300, "txn_type": "credit", "category": "salary", "channel": "netbanking", "is_failed": false}'
]);
SET client_min_messages = warning;
DROP TRIGGER regress_seen ON transactions;
DROP FUNCTION public.regress_seen();
WITH expected AS (
  SELECT customer_id, coalesce(m, 'infinity') AS month, sum(net) AS net_cents
  FROM (SELECT customer_id, date_trunc('month', txn_time AT TIME ZONE 'UTC')::date AS m,
               CASE txn_type WHEN 'credit' THEN (amount * 100)::bigint
                             ELSE -(amount * 100)::bigint END AS net
        FROM transactions WHERE NOT is_failed) t
  GROUP BY GROUPING SETS ((customer_id, m), (customer_id)))
SELECT (SELECT count(*) FROM expected) AS ledger_rows,
       (SELECT count(*) FROM ((SELECT * FROM expected EXCEPT SELECT * FROM balance_ledger)
                              UNION ALL
                              (SELECT * FROM balance_ledger EXCEPT SELECT * FROM expected)) d) AS ledger_rows_wrong;

-- Bad arguments
SELECT * FROM ingest_events(NULL);

-- Replay in batches (10,000 dead letters each): 10,050 events of a customer
-- not loaded yet (30 of them also with an unknown channel), then the
-- customer, then one replay of the unknown-customer ones takes them all in
SELECT dead_letters FROM ingest_events(ARRAY(
  SELECT format('{"event_id": "%s", "customer_id": "c0000000-0000-4000-8000-0000000000aa", "txn_time": "2025-06-07T10:00:00Z", "amount": %s, "txn_type": "debit", "category": "dining", "channel": "%s", "is_failed": false}',
                md5('replay' || g)::uuid, g, CASE WHEN g % 335 = 0 THEN 'pigeon' ELSE 'upi' END)
  FROM generate_series(1, 10050) g));
-- (written many to a statement: every one kept, in the order they came)
SELECT count(*) AS written, count(DISTINCT kafka_offset) AS distinct_offsets,
       bool_and(kafka_offset = rn - 1) AS in_order
FROM (SELECT kafka_offset, row_number() OVER (ORDER BY dead_letter_id) AS rn
      FROM dead_letters WHERE position(convert_to('0000aa', 'UTF8') IN payload) > 0) d;
INSERT INTO customers VALUES
  ('c0000000-0000-4000-8000-0000000000aa', 40000, 10, 'middle', 'savings', '2024-01-01', 1000, 0);
SELECT replay_dead_letters('unknown_customer%') AS replayed;
SELECT reason, count(*), max(replay_attempts) AS attempts FROM dead_letters
WHERE position(convert_to('0000aa', 'UTF8') IN payload) > 0 GROUP BY reason ORDER BY reason;
SELECT count(*) AS transactions_replayed, count(DISTINCT event_id) AS distinct_ids FROM transactions
WHERE customer_id = 'c0000000-0000-4000-8000-0000000000aa';

DELETE FROM customers WHERE customer_id::text LIKE 'c0000000-%';
DELETE FROM dead_letters;
DELETE FROM outbox;
UPDATE score_triggers SET enabled = (rule <> 'every_transaction'), min_interval = '0';
