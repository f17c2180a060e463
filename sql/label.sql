-- customer_label: loan payments due in [date(as_of), date(as_of) + 30), read
-- from the final payment record.
SET search_path = pre_delinquency, public;
SET client_min_messages = warning;

INSERT INTO customers VALUES
  ('1a000000-0000-0000-0000-000000000001', 1000, 1, 'low', 'savings', '2024-01-01 00:00+00', 0, 0);
INSERT INTO payments VALUES
  (gen_random_uuid(), '1a000000-0000-0000-0000-000000000001', 'loan', '2024-07-05', 500, '2024-07-10', 500),  -- 5 days: fine
  (gen_random_uuid(), '1a000000-0000-0000-0000-000000000001', 'utility', '2024-07-06', 50, NULL, 0),        -- not a loan
  (gen_random_uuid(), '1a000000-0000-0000-0000-000000000001', 'loan', '2024-08-05', 500, '2024-08-11', 500),  -- 6 days late
  (gen_random_uuid(), '1a000000-0000-0000-0000-000000000001', 'loan', '2024-09-05', 500, '2024-09-05', 499.99), -- short
  (gen_random_uuid(), '1a000000-0000-0000-0000-000000000001', 'loan', '2024-10-05', 500, NULL, 0);          -- missed

SELECT t, customer_label('1a000000-0000-0000-0000-000000000001', t) AS label
FROM (VALUES ('2024-06-05 00:00+00'::timestamptz),  -- horizon ends 07-04: nothing due
             ('2024-06-06 00:00+00'),   -- 07-05 due, paid within 5 days: 0
             ('2024-07-05 23:59:59+00'), -- date(as_of) = 07-05 is in the horizon: 0
             ('2024-07-06 00:00+00'),   -- horizon [07-06, 08-05): nothing due
             ('2024-07-07 00:00+00'),   -- 08-05 is in, 6 days late: 1
             ('2024-08-20 00:00+00'),   -- 09-05 paid short: 1
             ('2024-09-20 00:00+00'),   -- 10-05 never paid: 1
             ('2024-10-06 00:00+00')) v(t);  -- nothing due: NULL

-- date(as_of) is the UTC date, whatever the session's TimeZone
SET TimeZone = 'Asia/Kolkata';
SELECT customer_label('1a000000-0000-0000-0000-000000000001', '2024-06-06 04:00+05:30') AS label_utc_june_5;
RESET TimeZone;

-- Two loans in the horizon: one bad one makes the label 1
INSERT INTO payments VALUES
  (gen_random_uuid(), '1a000000-0000-0000-0000-000000000001', 'loan', '2024-07-20', 100, NULL, 0);
SELECT customer_label('1a000000-0000-0000-0000-000000000001', '2024-07-01') AS two_loans_one_missed;

-- Unknown customers and NULL arguments are errors
SELECT customer_label('1a000000-0000-0000-0000-0000000000ff', '2024-07-01');
SELECT customer_label(NULL, '2024-07-01');

DELETE FROM customers WHERE customer_id = '1a000000-0000-0000-0000-000000000001';
