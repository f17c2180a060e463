-- Events for the streaming test: psql -v batch=N -v bad=M -v seed=S, prints
-- "key|json" lines for kcat -K'|'. Good events have fresh event ids drawn
-- from the seed (so a batch number gives the same ids again); bad events
-- cycle through the dead-letter reasons.
SELECT setseed(:seed);
WITH c AS (
  SELECT customer_id, row_number() OVER (ORDER BY customer_id) AS n
  FROM pre_delinquency.customers),
k AS (SELECT count(*) AS customers FROM c),
good AS (
  SELECT c.customer_id::text AS key,
         json_build_object(
           'event_id', md5('batch' || :batch || '/' || g)::uuid,
           'customer_id', c.customer_id,
           'txn_time', to_char((now() - make_interval(secs => 3600 - g % 3600)) AT TIME ZONE 'UTC',
                               'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           'amount', round((1 + random() * 900)::numeric, 2),
           'txn_type', 'debit',
           'category', (ARRAY['groceries', 'atm', 'dining', 'utilities', 'loan_payment'])[1 + g % 5],
           'channel', (ARRAY['pos', 'atm', 'card', 'autodebit', 'autodebit'])[1 + g % 5],
           'merchant_id', CASE WHEN g % 5 IN (0, 2) THEN 'M' || (g % 50) END,
           'is_failed', g % 11 = 0,
           'event_time', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           'event_type', 'transaction')::text AS value
  FROM generate_series(1, :events - :bad) g CROSS JOIN k
  JOIN c ON c.n = 1 + (g * 7919) % k.customers),
bad AS (
  SELECT 'bad' AS key,
         (ARRAY['{"customer_id": "00000000-0000-0000-0000-000000000001", "txn_time": "2025-01-01T00:00:00Z"',
                'not json',
                '{"customer_id": "00000000-0000-4000-8000-0000000000ff", "txn_time": "2025-01-01T00:00:00Z", "amount": 5, "txn_type": "debit", "category": "dining", "channel": "upi", "is_failed": false}',
                '{"customer_id": 42, "txn_time": "2025-01-01T00:00:00Z", "amount": 5, "txn_type": "debit", "category": "dining", "channel": "upi", "is_failed": false}',
                '{"customer_id": "00000000-0000-4000-8000-0000000000ff", "txn_time": "2025-01-01T00:00:00Z", "amount": -1, "txn_type": "debit", "category": "dining", "channel": "upi", "is_failed": false}'
               ])[1 + g % 5] AS value
  FROM generate_series(1, :bad) g)
SELECT key || '|' || value FROM good
UNION ALL
SELECT key || '|' || value FROM bad;
