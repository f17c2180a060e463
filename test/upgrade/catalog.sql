-- Every object of the extension, described in full, one line each, in a
-- stable order: two databases with the same output hold the same extension
-- (test_upgrade.sh compares a new one with an updated one). Names, not oids;
-- definitions, privileges, comments, settings and pg_dump's configuration.
\pset format unaligned
\pset tuples_only on
SET search_path = pg_catalog;

WITH members AS (
	SELECT d.classid, d.objid, d.objsubid
	FROM pg_depend d
	WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
	  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pre_delinquency')
)
SELECT line FROM (
	-- functions: full definition (volatility, security, search_path, body) and ACL
	SELECT 'function ' || p.oid::regprocedure || E'\n' || pg_get_functiondef(p.oid)
	       || E'\nacl ' || coalesce(p.proacl::text, 'default')
	       || E'\ncomment ' || coalesce(obj_description(p.oid, 'pg_proc'), '-') AS line
	FROM members m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
	  AND p.prokind <> 'a'
	UNION ALL
	-- relations: kind, columns, ACL, comment, options
	SELECT 'relation ' || c.relname || ' kind ' || c.relkind::text
	       || ' acl ' || coalesce(c.relacl::text, 'default')
	       || ' comment ' || coalesce(obj_description(c.oid, 'pg_class'), '-')
	       || ' columns ' || coalesce((
	           SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
	                             || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
	                             || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END
	                             || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
	                             || coalesce(' acl ' || a.attacl::text, ''),
	                             ', ' ORDER BY a.attnum)
	           FROM pg_attribute a
	           LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
	           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')
	       || CASE c.relkind WHEN 'v' THEN E'\n' || pg_get_viewdef(c.oid) ELSE '' END
	FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
	UNION ALL
	-- constraints, indexes and triggers of the extension's tables
	SELECT 'constraint ' || con.conrelid::regclass || ' ' || con.conname || ' '
	       || pg_get_constraintdef(con.oid) || ' validated ' || con.convalidated
	FROM pg_constraint con JOIN members m ON m.classid = 'pg_class'::regclass
	  AND con.conrelid = m.objid
	UNION ALL
	SELECT 'index ' || pg_get_indexdef(i.indexrelid)
	       || ' comment ' || coalesce(obj_description(i.indexrelid, 'pg_class'), '-')
	FROM pg_index i JOIN members m ON m.classid = 'pg_class'::regclass AND i.indrelid = m.objid
	UNION ALL
	SELECT 'trigger ' || pg_get_triggerdef(t.oid)
	FROM pg_trigger t JOIN members m ON m.classid = 'pg_class'::regclass AND t.tgrelid = m.objid
	WHERE NOT t.tgisinternal
	UNION ALL
	-- types, schemas and anything else, by description
	SELECT 'member ' || pg_describe_object(m.classid, m.objid, m.objsubid)
	FROM members m WHERE m.classid NOT IN ('pg_proc'::regclass, 'pg_class'::regclass)
	UNION ALL
	-- the schema's ACL, the roles and their membership
	SELECT 'schema acl ' || coalesce(nspacl::text, 'default') FROM pg_namespace
	WHERE nspname = 'pre_delinquency'
	UNION ALL
	SELECT 'role ' || r.rolname || ' login ' || r.rolcanlogin || ' member of '
	       || coalesce((SELECT string_agg(g.rolname, ',' ORDER BY g.rolname)
	                    FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid
	                    WHERE am.member = r.oid), '-')
	FROM pg_roles r WHERE r.rolname LIKE 'pre\_delinquency\_%'
	UNION ALL
	-- what pg_dump dumps
	SELECT 'dumped ' || cfg::regclass || ' ' || coalesce(cond, '')
	FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS u(cfg, cond)
	WHERE e.extname = 'pre_delinquency'
	UNION ALL
	-- the rows the scripts seed
	SELECT 'risk_levels ' || r::text FROM pre_delinquency.risk_levels r
	UNION ALL
	SELECT 'intervention_policies ' || p::text FROM pre_delinquency.intervention_policies p
	UNION ALL
	SELECT 'score_triggers ' || s::text FROM pre_delinquency.score_triggers s
	UNION ALL
	SELECT 'model ' || name || ' active ' || is_active || ' features ' || feature_names::text
	       || ' booster ' || md5(booster) || ' training ' || training::text
	FROM pre_delinquency.models
) described
ORDER BY line;
