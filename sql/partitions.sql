-- Scale-out: kafka_partition() is the Java client's default partitioner, and
-- pre_delinquency.partitions refuses lists it cannot read.
SET search_path = pre_delinquency, public;

-- murmur2 of Kafka's own test vectors (clients UtilsTest.testMurmur2), made
-- positive: with 2147483647 partitions the partition is that value itself.
-- Expected partitions among 6, 7 and 64 computed with kafka-clients 4.4.0's
-- BuiltInPartitioner.partitionForKey(key.getBytes(UTF_8), n).
SELECT key, kafka_partition(key, 2147483647) = (murmur2::int8 & 2147483647) AS murmur2_matches,
       kafka_partition(key, 6) = p6 AND kafka_partition(key, 7) = p7
         AND kafka_partition(key, 64) = p64 AS java_partitions_match
FROM (VALUES
  ('21', -973932308, 0, 3, 44),
  ('foobar', -790332482, 0, 0, 62),
  ('a-little-bit-long-string', -985981536, 2, 1, 32),
  ('a-little-bit-longer-string', -1486304829, 5, 0, 3),
  ('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971, 5, 3, 13),
  ('abc', 479470107, 3, 4, 27),
  ('', 275646681, 3, 2, 25),
  ('é', 186971271, 3, 4, 7),
  ('00000000-0000-0000-0000-000000000000', 713427837, 3, 3, 61),
  ('6f1c2a3e-8b4d-4e2f-9a1b-3c4d5e6f7a8b', 1528299244, 4, 3, 44),
  ('9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d', 1072575798, 0, 0, 54),
  ('ffffffff-ffff-ffff-ffff-ffffffffffff', -359870222, 0, 4, 50)
) AS java(key, murmur2, p6, p7, p64)
ORDER BY key;

-- a customer id as the producer keys it: uuid::text, lowercase
SELECT kafka_partition('6F1C2A3E-8B4D-4E2F-9A1B-3C4D5E6F7A8B'::uuid::text, 6) AS uuid_key;
SELECT kafka_partition('x', 1) AS one_partition, kafka_partition(NULL, 6) AS null_key;
SELECT kafka_partition('x', 0);

-- The owned-partition list: readable lists pass, others are refused with a
-- reason (ALTER SYSTEM runs the check hook; the valid one is reset at once).
LOAD 'pre_delinquency';
ALTER SYSTEM SET pre_delinquency.partitions = ' 0-2, 5 ';
ALTER SYSTEM RESET pre_delinquency.partitions;
ALTER SYSTEM SET pre_delinquency.partitions = '5-2';
ALTER SYSTEM SET pre_delinquency.partitions = '0-';
ALTER SYSTEM SET pre_delinquency.partitions = 'zero';
ALTER SYSTEM SET pre_delinquency.partitions = '1,,2';
ALTER SYSTEM SET pre_delinquency.partitions = '0-3 4';
ALTER SYSTEM SET pre_delinquency.partitions = '0-2,2';
ALTER SYSTEM SET pre_delinquency.partitions = '0-1000';
ALTER SYSTEM SET pre_delinquency.partitions = '99999999999';
SHOW pre_delinquency.partitions;

-- Without the workers preloaded the view is empty, not an error
SELECT count(*) AS assignments FROM ingest_assignment;

-- Several ingest workers: a server-start setting, known to a backend that
-- merely LOADed the library (so ALTER SYSTEM can set it before the restart
-- that preloads it); 1 to 8.
SHOW pre_delinquency.ingest_workers;
ALTER SYSTEM SET pre_delinquency.ingest_workers = 2;
ALTER SYSTEM RESET pre_delinquency.ingest_workers;
ALTER SYSTEM SET pre_delinquency.ingest_workers = 9;
ALTER SYSTEM SET pre_delinquency.ingest_workers = 0;
SET pre_delinquency.ingest_workers = 2;
