-- pre_delinquency 0.1.0 -> 0.2.0
--
-- Everything 0.2.0 changes in SQL objects. There is no separate
-- pre_delinquency--0.2.0.sql: CREATE EXTENSION runs the released 0.1.0
-- script (frozen) followed by this one, so a new database and an updated one
-- are built by the same statements (test/upgrade/test_upgrade.sh compares
-- them). The shared library serves both: every C symbol 0.1.0 names stays.
--
-- How to add to it: append a block at the end, headed
--     -- added in 0.2.0: <what and why>
-- Each block must be safe to run on a database holding data and a running
-- stream (the workers keep running during ALTER EXTENSION ... UPDATE):
-- CREATE ... / ALTER ... ADD, no table rewrites of the big tables, no
-- DROP of anything 0.1.0 code or users rely on. A new function or relation
-- gets REVOKE ALL ... FROM PUBLIC and a GRANT to the role it is for
-- (sql/security.sql fails on anything PUBLIC can use); a SECURITY DEFINER
-- function gets SET search_path = pre_delinquency, pg_catalog, pg_temp.

\echo Use "ALTER EXTENSION pre_delinquency UPDATE" to load this file. \quit

-- ---------------------------------------------------------------------------
-- added in 0.2.0: security review (docs/SECURITY.md)
-- ---------------------------------------------------------------------------

-- pg_temp last. A search_path without pg_temp searches the session's
-- temporary schema FIRST for tables: a role allowed to insert transactions
-- could create a temporary "balance_ledger" or "outbox" and have these
-- SECURITY DEFINER triggers (which run as the extension's owner) write into
-- it, or fire its own triggers as that owner.
ALTER FUNCTION models_single_active() SET search_path = pre_delinquency, pg_catalog, pg_temp;
ALTER FUNCTION ledger_on_change() SET search_path = pre_delinquency, pg_catalog, pg_temp;
ALTER FUNCTION ledger_on_truncate() SET search_path = pre_delinquency, pg_catalog, pg_temp;
ALTER FUNCTION rebuild_balance_ledger() SET search_path = pre_delinquency, pg_catalog, pg_temp;
ALTER FUNCTION outbox_predictions() SET search_path = pre_delinquency, pg_catalog, pg_temp;
ALTER FUNCTION outbox_interventions() SET search_path = pre_delinquency, pg_catalog, pg_temp;
ALTER FUNCTION risk_level(float8) SET search_path = pre_delinquency, pg_catalog, pg_temp;

-- Input size limits on the text an operator writes (docs/SECURITY.md,
-- "Input size limits"). NOT VALID: an update never fails on rows a DBA
-- wrote before; every new or changed row is checked.
ALTER TABLE intervention_policies
	ADD CONSTRAINT intervention_policies_template_length
		CHECK (length(message_template) BETWEEN 1 AND 2000) NOT VALID,
	ADD CONSTRAINT intervention_policies_type_length
		CHECK (length(intervention_type) BETWEEN 1 AND 64) NOT VALID;
ALTER TABLE risk_levels
	ADD CONSTRAINT risk_levels_name_length
		CHECK (length(risk_level) BETWEEN 1 AND 32) NOT VALID;
ALTER TABLE models
	ADD CONSTRAINT models_name_length
		CHECK (length(name) BETWEEN 1 AND 200) NOT VALID;
