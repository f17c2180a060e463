-- The extension is created by pg_regress (--load-extension=pre_delinquency).
SELECT extname, extversion, extrelocatable,
       extnamespace::regnamespace AS schema
FROM pg_extension WHERE extname = 'pre_delinquency';

-- The 31 feature names, in the order of the features type
SELECT array_length(pre_delinquency.feature_names(), 1) AS n_features;
SELECT pre_delinquency.feature_names() = ARRAY(
         SELECT attname::text FROM pg_attribute
         WHERE attrelid = 'pre_delinquency.features'::regclass AND attnum > 0
         ORDER BY attnum) AS names_match_type;
SELECT n, name FROM unnest(pre_delinquency.feature_names()) WITH ORDINALITY AS f(name, n)
WHERE n IN (1, 16, 31);

-- Every function says what it does and how volatile it is
SELECT p.proname, p.provolatile, p.proparallel,
       obj_description(p.oid, 'pg_proc') IS NOT NULL AS has_comment
FROM pg_proc p
WHERE p.pronamespace = 'pre_delinquency'::regnamespace
ORDER BY p.proname;

-- Tables the pipeline owns, each with a comment
SELECT c.relname, obj_description(c.oid, 'pg_class') IS NOT NULL AS has_comment
FROM pg_class c
WHERE c.relnamespace = 'pre_delinquency'::regnamespace AND c.relkind = 'r'
ORDER BY c.relname;

-- User data survives pg_dump; the derived ledger is rebuilt, not dumped
SELECT unnest(extconfig)::regclass AS dumped
FROM pg_extension WHERE extname = 'pre_delinquency' ORDER BY 1;
