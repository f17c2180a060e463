/*
 * schema.c
 *    Finds the extension's tables, indexes and column numbers by name and
 *    caches them per backend, so that the C readers (features, label) can use
 *    direct index scans without hard-coding OIDs or column positions.
 *
 * It also owns the one way those readers walk a customer's rows: a range of
 * an index led by customer_id, read with the active snapshot, from the index
 * alone where it holds the columns the caller reads and the visibility map
 * allows, from the heap otherwise.
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
#include "access/visibilitymap.h"
#include "catalog/pg_index.h"
#include "catalog/namespace.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/predicate.h"
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
	static uint64 generations = 0;
	PdSchema *s = &schema;

	s->generation = ++generations;
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

	s->risk_scores = lookup_relation("risk_scores");
	s->outbox = lookup_relation("outbox");
	s->dead_letters = lookup_relation("dead_letters");

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

/*
 * Where the index holds each of the caller's columns; false if it lacks one
 * (or the caller did not say which it reads).
 */
static bool
map_covered_columns(PdRangeScan *rs, const AttrNumber *columns, int ncolumns)
{
	Form_pg_index ind = rs->index->rd_index;

	rs->ncovered = 0;
	if (columns == NULL)
		return false;
	for (int c = 0; c < ncolumns; c++)
	{
		int i = 0;

		while (i < ind->indnatts && ind->indkey.values[i] != columns[c])
			i++;
		if (i == ind->indnatts)
			return false;
		rs->covered_heap_attno[rs->ncovered] = columns[c];
		rs->covered_index_col[rs->ncovered++] = i;
	}
	return true;
}

void
pd_range_scan_open(PdRangeScan *rs, Oid heap, Oid index, int nkeys,
                   const AttrNumber *columns, int ncolumns)
{
	rs->heap = table_open(heap, AccessShareLock);
	rs->index = index_open(index, AccessShareLock);
	rs->heap_slot = table_slot_create(rs->heap, NULL);
	rs->slot = rs->heap_slot;
	rs->index_slot = NULL;
	rs->vm_buffer = InvalidBuffer;
	rs->cxt = CurrentMemoryContext;
	rs->nkeys = nkeys;
	rs->scan =
	    index_beginscan(rs->heap, rs->index, GetActiveSnapshot(), nkeys, 0);
	if (map_covered_columns(rs, columns, ncolumns))
	{
		rs->index_slot = MakeSingleTupleTableSlot(RelationGetDescr(rs->heap),
		                                          &TTSOpsVirtual);
		rs->scan->xs_want_itup = true;
	}
}

void
pd_range_scan_rescan(PdRangeScan *rs, const pg_uuid_t *customer_id,
                     RegProcedure ge_proc, Datum lower, RegProcedure lt_proc,
                     Datum upper)
{
	ScanKeyData keys[3];
	int nkeys = 0;
	MemoryContext caller;

	ScanKeyInit(&keys[nkeys++], 1, BTEqualStrategyNumber, F_UUID_EQ,
	            UUIDPGetDatum(customer_id));
	if (OidIsValid(ge_proc))
		ScanKeyInit(&keys[nkeys++], 2, BTGreaterEqualStrategyNumber, ge_proc,
		            lower);
	if (OidIsValid(lt_proc))
		ScanKeyInit(&keys[nkeys++], 2, BTLessStrategyNumber, lt_proc, upper);
	/* the index AM keeps as many keys as the scan was opened for */
	if (nkeys != rs->nkeys)
		elog(ERROR, "range scan opened for %d keys, rescanned with %d",
		     rs->nkeys, nkeys);
	caller = MemoryContextSwitchTo(rs->cxt);
	index_rescan(rs->scan, keys, nkeys, NULL, 0);
	MemoryContextSwitchTo(caller);
}

void
pd_range_scan_begin(PdRangeScan *rs, Oid heap, Oid index,
                    const pg_uuid_t *customer_id, RegProcedure ge_proc,
                    Datum lower, RegProcedure lt_proc, Datum upper,
                    const AttrNumber *columns, int ncolumns)
{
	int nkeys = 1 + OidIsValid(ge_proc) + OidIsValid(lt_proc);

	pd_range_scan_open(rs, heap, index, nkeys, columns, ncolumns);
	pd_range_scan_rescan(rs, customer_id, ge_proc, lower, lt_proc, upper);
}

/* The caller's columns of the index tuple just read, as a virtual row. */
static void
store_index_row(PdRangeScan *rs)
{
	TupleTableSlot *slot = rs->index_slot;
	Datum values[INDEX_MAX_KEYS];
	bool isnull[INDEX_MAX_KEYS];

	index_deform_tuple(rs->scan->xs_itup, rs->scan->xs_itupdesc, values,
	                   isnull);
	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, slot->tts_tupleDescriptor->natts);
	for (int c = 0; c < rs->ncovered; c++)
	{
		int attno = rs->covered_heap_attno[c];

		slot->tts_values[attno - 1] = values[rs->covered_index_col[c]];
		slot->tts_isnull[attno - 1] = isnull[rs->covered_index_col[c]];
	}
	ExecStoreVirtualTuple(slot);
	rs->slot = slot;
}

/*
 * As nodeIndexonlyscan.c does: the index alone when the visibility map says
 * every tuple on the heap page is visible to all, the heap otherwise (rows
 * written since the last vacuum).
 */
static bool
range_scan_next(PdRangeScan *rs)
{
	ItemPointer tid;

	if (rs->index_slot == NULL)
		return index_getnext_slot(rs->scan, ForwardScanDirection, rs->slot);
	while ((tid = index_getnext_tid(rs->scan, ForwardScanDirection)) != NULL)
	{
		if (VM_ALL_VISIBLE(rs->heap, ItemPointerGetBlockNumber(tid),
		                   &rs->vm_buffer))
		{
			store_index_row(rs);
			PredicateLockPage(rs->heap, ItemPointerGetBlockNumber(tid),
			                  rs->scan->xs_snapshot);
			return true;
		}
		rs->slot = rs->heap_slot;
		if (index_fetch_heap(rs->scan, rs->heap_slot))
			return true;
	}
	return false;
}

/*
 * In the scan's own context: the index AM allocates what it keeps for the
 * rest of the scan (btree's killed items) in the current one, and a caller
 * reading many customers resets its own between them.
 */
bool
pd_range_scan_next(PdRangeScan *rs)
{
	MemoryContext caller = MemoryContextSwitchTo(rs->cxt);
	bool found = range_scan_next(rs);

	MemoryContextSwitchTo(caller);
	return found;
}

void
pd_range_scan_end(PdRangeScan *rs)
{
	index_endscan(rs->scan);
	if (BufferIsValid(rs->vm_buffer))
		ReleaseBuffer(rs->vm_buffer);
	ExecDropSingleTupleTableSlot(rs->heap_slot);
	if (rs->index_slot != NULL)
		ExecDropSingleTupleTableSlot(rs->index_slot);
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
pd_read_customer_from(PdRangeScan *rs, const PdSchema *s,
                      const pg_uuid_t *customer_id)
{
	PdCustomer c;
	TupleTableSlot *slot;
	bool isnull;

	pd_range_scan_rescan(rs, customer_id, InvalidOid, 0, InvalidOid, 0);
	if (!pd_range_scan_next(rs))
		ereport(ERROR,
		        (errcode(ERRCODE_NO_DATA_FOUND),
		         errmsg("customer %s does not exist",
		                DatumGetCString(DirectFunctionCall1(
		                    uuid_out, UUIDPGetDatum(customer_id)))),
		         errhint("Insert it into pre_delinquency.customers first.")));
	slot = rs->slot;
	c.income = pd_numeric_to_cents(
	    slot_getattr(slot, s->cust_monthly_income, &isnull));
	c.salary_day =
	    DatumGetInt16(slot_getattr(slot, s->cust_salary_day, &isnull));
	c.opened_at =
	    DatumGetTimestampTz(slot_getattr(slot, s->cust_opened_at, &isnull));
	c.opening = pd_numeric_to_cents(
	    slot_getattr(slot, s->cust_opening_balance, &isnull));
	c.min_balance =
	    pd_numeric_to_cents(slot_getattr(slot, s->cust_min_balance, &isnull));
	return c;
}

PdCustomer
pd_read_customer(const PdSchema *s, const pg_uuid_t *customer_id)
{
	PdRangeScan rs;
	PdCustomer c;

	pd_range_scan_open(&rs, s->customers, s->customers_pkey, 1, NULL, 0);
	c = pd_read_customer_from(&rs, s, customer_id);
	pd_range_scan_end(&rs);
	return c;
}
