/*
 * schema.c
 *    Finds the extension's tables, indexes and column numbers by name and
 *    caches them per backend, so that the C readers (features, label) can use
 *    direct index scans without hard-coding OIDs or column positions.
 *
 * It also owns the one way those readers walk a customer's rows: a range of
 * an index led by customer_id, read straight from the heap with the active
 * snapshot, after checking that the caller may read the table.
 *
 * The cache is dropped on any relation cache invalidation (ALTER, DROP,
 * DROP EXTENSION), which is rare and cheap to recover from.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"

#include "pd_util.h"
#include "schema.h"

static PdSchema schema;
static bool schema_valid = false;
static bool callback_registered = false;

static void
invalidate_schema(Datum arg, Oid relid)
{
	schema_valid = false;
}

static Oid
lookup_relation(const char *name)
{
	Oid relid = get_relname_relid(name, schema.namespace_oid);

	if (!OidIsValid(relid))
		ereport(
		    ERROR,
		    (errcode(ERRCODE_UNDEFINED_TABLE),
		     errmsg("relation pre_delinquency.%s does not exist", name),
		     errhint("The extension's objects were altered; reinstall it with "
		             "DROP EXTENSION pre_delinquency; CREATE EXTENSION "
		             "pre_delinquency.")));
	return relid;
}

static AttrNumber
lookup_column(Oid relid, const char *name)
{
	AttrNumber attnum = get_attnum(relid, name);

	if (attnum == InvalidAttrNumber)
		ereport(
		    ERROR,
		    (errcode(ERRCODE_UNDEFINED_COLUMN),
		     errmsg("column %s of pre_delinquency.%s does not exist", name,
		            get_rel_name(relid)),
		     errhint(
		         "The extension's tables were altered; restore the column.")));
	return attnum;
}

static void
load_schema(void)
{
	PdSchema *s = &schema;

	s->namespace_oid = get_namespace_oid("pre_delinquency", true);
	if (!OidIsValid(s->namespace_oid))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_SCHEMA),
		                errmsg("extension pre_delinquency is not installed in "
		                       "this database"),
		                errhint("Run CREATE EXTENSION pre_delinquency.")));

	s->customers = lookup_relation("customers");
	s->customers_pkey = lookup_relation("customers_pkey");
	s->cust_monthly_income = lookup_column(s->customers, "monthly_income");
	s->cust_salary_day = lookup_column(s->customers, "salary_day");
	s->cust_opened_at = lookup_column(s->customers, "opened_at");
	s->cust_opening_balance = lookup_column(s->customers, "opening_balance");
	s->cust_min_balance = lookup_column(s->customers, "min_balance");

	s->transactions = lookup_relation("transactions");
	s->transactions_time_idx =
	    lookup_relation("transactions_customer_time_idx");
	s->transactions_salary_idx = lookup_relation("transactions_salary_idx");
	s->txn_time = lookup_column(s->transactions, "txn_time");
	s->txn_amount = lookup_column(s->transactions, "amount");
	s->txn_type = lookup_column(s->transactions, "txn_type");
	s->txn_category = lookup_column(s->transactions, "category");
	s->txn_channel = lookup_column(s->transactions, "channel");
	s->txn_merchant_id = lookup_column(s->transactions, "merchant_id");
	s->txn_is_failed = lookup_column(s->transactions, "is_failed");

	s->payments = lookup_relation("payments");
	s->payments_due_idx = lookup_relation("payments_customer_due_idx");
	s->pay_kind = lookup_column(s->payments, "kind");
	s->pay_due_date = lookup_column(s->payments, "due_date");
	s->pay_amount_due = lookup_column(s->payments, "amount_due");
	s->pay_paid_date = lookup_column(s->payments, "paid_date");
	s->pay_amount_paid = lookup_column(s->payments, "amount_paid");

	s->models = lookup_relation("models");
	s->models_active_idx = lookup_relation("models_active_idx");
	s->model_id = lookup_column(s->models, "model_id");
	s->model_feature_names = lookup_column(s->models, "feature_names");
	s->model_booster = lookup_column(s->models, "booster");
	s->model_is_active = lookup_column(s->models, "is_active");

	s->ledger = lookup_relation("balance_ledger");
	s->ledger_pkey = lookup_relation("balance_ledger_pkey");
	s->ledger_month = lookup_column(s->ledger, "month");
	s->ledger_net_cents = lookup_column(s->ledger, "net_cents");
}

const PdSchema *
pd_schema(void)
{
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(invalidate_schema, (Datum) 0);
		callback_registered = true;
	}
	if (!schema_valid)
	{
		load_schema();
		schema_valid = true;
	}
	return &schema;
}

void
pd_range_scan_begin(PdRangeScan *rs, Oid heap, Oid index,
                    const pg_uuid_t *customer_id, RegProcedure ge_proc,
                    Datum lower, RegProcedure lt_proc, Datum upper)
{
	ScanKeyData keys[3];
	int nkeys = 0;

	ScanKeyInit(&keys[nkeys++], 1, BTEqualStrategyNumber, F_UUID_EQ,
	            UUIDPGetDatum(customer_id));
	if (OidIsValid(ge_proc))
		ScanKeyInit(&keys[nkeys++], 2, BTGreaterEqualStrategyNumber, ge_proc,
		            lower);
	if (OidIsValid(lt_proc))
		ScanKeyInit(&keys[nkeys++], 2, BTLessStrategyNumber, lt_proc, upper);

	rs->heap = table_open(heap, AccessShareLock);
	rs->index = index_open(index, AccessShareLock);
	rs->slot = table_slot_create(rs->heap, NULL);
	rs->scan =
	    index_beginscan(rs->heap, rs->index, GetActiveSnapshot(), nkeys, 0);
	index_rescan(rs->scan, keys, nkeys, NULL, 0);
}

bool
pd_range_scan_next(PdRangeScan *rs)
{
	return index_getnext_slot(rs->scan, ForwardScanDirection, rs->slot);
}

void
pd_range_scan_end(PdRangeScan *rs)
{
	index_endscan(rs->scan);
	ExecDropSingleTupleTableSlot(rs->slot);
	index_close(rs->index, AccessShareLock);
	table_close(rs->heap, AccessShareLock);
}

void
pd_check_table_readable(Oid relid)
{
	AclResult acl = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);

	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, get_rel_name(relid));

	/* The engine reads the heap directly, so it cannot apply policies. */
	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		ereport(
		    ERROR,
		    (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		     errmsg(
		         "row-level security on pre_delinquency.%s is not supported",
		         get_rel_name(relid)),
		     errhint("Disable row-level security on the table, or grant the "
		             "role BYPASSRLS.")));
}

PdCustomer
pd_read_customer(const PdSchema *s, const pg_uuid_t *customer_id)
{
	PdRangeScan rs;
	PdCustomer c;
	bool found;

	pd_range_scan_begin(&rs, s->customers, s->customers_pkey, customer_id,
	                    InvalidOid, 0, InvalidOid, 0);
	found = pd_range_scan_next(&rs);
	if (found)
	{
		TupleTableSlot *slot = rs.slot;
		bool isnull;

		c.income = pd_numeric_to_cents(
		    slot_getattr(slot, s->cust_monthly_income, &isnull));
		c.salary_day =
		    DatumGetInt16(slot_getattr(slot, s->cust_salary_day, &isnull));
		c.opened_at = DatumGetTimestampTz(
		    slot_getattr(slot, s->cust_opened_at, &isnull));
		c.opening = pd_numeric_to_cents(
		    slot_getattr(slot, s->cust_opening_balance, &isnull));
		c.min_balance = pd_numeric_to_cents(
		    slot_getattr(slot, s->cust_min_balance, &isnull));
	}
	pd_range_scan_end(&rs);

	if (!found)
		ereport(ERROR,
		        (errcode(ERRCODE_NO_DATA_FOUND),
		         errmsg("customer %s does not exist",
		                DatumGetCString(DirectFunctionCall1(
		                    uuid_out, UUIDPGetDatum(customer_id)))),
		         errhint("Insert it into pre_delinquency.customers first.")));
	return c;
}
