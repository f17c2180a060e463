/*
 * bulk_writer.c
 *    The synthetic bank's rows into customers, transactions, payments and
 *    balance_ledger, inserted the way COPY does.
 *
 * Rows go in as COPY puts them: table_multi_insert of BULK_ROWS slots, then
 * index insertion, NOT NULL and CHECK constraints checked. Foreign keys are
 * not checked (every row's customer is written by the same call) and no
 * trigger fires, which is why the ledger rows are written here and why a
 * table with other triggers is refused rather than silently bypassed.
 *
 * Checking the constraints of every transaction costs a fifth of the run
 * (the category CHECK compares text against 18 names). What they test holds
 * by construction (amounts > 0, finite times, names from the tables below
 * and categories.c), so a transaction is checked when its shape (category,
 * channel, merchant or none, failed or not) is new; if the table has a CHECK
 * this file does not know, every row is checked.
 *
 * What the rows say is the model's (synthetic_model.c); the SQL entry point
 * is synthetic.c's.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/reltrigger.h"
#include "utils/rls.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "bulk_writer.h"
#include "categories.h"
#include "pd_util.h"
#include "schema.h"

#define BULK_ROWS   1000 /* rows per multi-insert, as COPY does */
#define MAX_COLUMNS 9
#define N_SHAPES    (NUM_CATEGORIES * N_CHANNELS * 4)

static const char *const channel_names[N_CHANNELS] = {
    [CH_POS] = "pos",
    [CH_CARD] = "card",
    [CH_ONLINE] = "online",
    [CH_UPI] = "upi",
    [CH_NETBANKING] = "netbanking",
    [CH_ATM] = "atm",
    [CH_BRANCH] = "branch",
    [CH_AUTODEBIT] = "autodebit"};

static const char *const kind_names[N_KINDS] = {[PK_LOAN] = "loan",
                                                [PK_UTILITY] = "utility",
                                                [PK_RENT] = "rent",
                                                [PK_INSURANCE] = "insurance",
                                                [PK_CREDIT_CARD] =
                                                    "credit_card"};

static const char *const bracket_names[] = {
    [BR_LOW] = "low", [BR_MIDDLE] = "middle", [BR_HIGH] = "high"};

static const char *const account_names[] = {[AT_SALARY] = "salary",
                                            [AT_SAVINGS] = "savings",
                                            [AT_CURRENT] = "current"};

const char *const pd_known_transaction_checks[] = {
    "transactions_amount_check",
    "transactions_category_matches_type",
    "transactions_channel_check",
    "transactions_merchant_id_check",
    "transactions_txn_time_check",
    "transactions_txn_type_check",
    NULL};

typedef struct BulkTable
{
	Relation rel;
	ResultRelInfo *rri;
	TupleTableSlot *slots[BULK_ROWS];
	int nused;
	BulkInsertState bistate;
	AttrNumber attnum[MAX_COLUMNS]; /* our i-th column */
	bool has_constraints;
	bool check_by_shape; /* else every row */
	bool shape_checked[N_SHAPES];
} BulkTable;

struct Writer
{
	EState *estate;
	CommandId cid;
	MemoryContext row_cxt;   /* one row's datums, until materialized */
	MemoryContext flush_cxt; /* what a multi-insert leaves behind */
	uint32 seed;
	uint64 next_event;
	uint64 next_payment;
	Datum category[NUM_CATEGORIES];
	Datum channel[N_CHANNELS];
	Datum kind[N_KINDS];
	Datum credit, debit;
	Datum bracket[3];
	Datum account[3];
	BulkTable customers, transactions, payments, ledger;
};

static const char *const customer_columns[] = {
    "customer_id",     "monthly_income", "salary_day",
    "income_bracket",  "account_type",   "opened_at",
    "opening_balance", "min_balance",    NULL};
static const char *const transaction_columns[] = {
    "event_id", "customer_id", "txn_time",    "amount",    "txn_type",
    "category", "channel",     "merchant_id", "is_failed", NULL};
static const char *const payment_columns[] = {
    "payment_id", "customer_id", "kind",        "due_date",
    "amount_due", "paid_date",   "amount_paid", NULL};
static const char *const ledger_columns[] = {"customer_id", "month",
                                             "net_cents", NULL};

/* The caller's rights as INSERT would check them; the ledger is internal. */
static void
check_insert_allowed(Relation rel)
{
	Oid relid = RelationGetRelid(rel);
	AclResult acl = pg_class_aclcheck(relid, GetUserId(), ACL_INSERT);

	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, RelationGetRelationName(rel));
	if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		                errmsg("generate_synthetic cannot write %s: row-level "
		                       "security is enabled",
		                       RelationGetRelationName(rel)),
		                errhint("Run it as the table owner or disable "
		                        "row-level security for the load.")));
}

/*
 * The ledger's own trigger on transactions, whatever it is called: the
 * function decides, as the ingest bulk path checks it, not the name (a
 * DBA's trigger named transactions_ledger_audit must still be refused).
 */
static bool
is_ledger_trigger(Relation rel, const Trigger *tg)
{
	const PdSchema *s = pd_schema();
	char *function;

	if (RelationGetRelid(rel) != s->transactions ||
	    get_func_namespace(tg->tgfoid) != s->namespace_oid)
		return false;
	function = get_func_name(tg->tgfoid);
	return function != NULL && strcmp(function, "ledger_on_change") == 0;
}

/* Refuses a table with a trigger that an INSERT would fire and we do not. */
static void
check_no_foreign_triggers(Relation rel)
{
	TriggerDesc *td = rel->trigdesc;

	for (int i = 0; td != NULL && i < td->numtriggers; i++)
	{
		Trigger *tg = &td->triggers[i];

		if (tg->tgisinternal || tg->tgenabled == TRIGGER_DISABLED ||
		    !TRIGGER_FOR_INSERT(tg->tgtype) || is_ledger_trigger(rel, tg))
			continue;
		ereport(ERROR,
		        (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		         errmsg("generate_synthetic would bypass trigger \"%s\" on %s",
		                tg->tgname, RelationGetRelationName(rel)),
		         errdetail("It writes rows directly, like a bulk load, and "
		                   "fires no triggers."),
		         errhint("Disable the trigger for the load: ALTER TABLE "
		                 "pre_delinquency.%s DISABLE TRIGGER %s.",
		                 RelationGetRelationName(rel), tg->tgname)));
	}
}

/* Our columns by name; a column we do not know of would be left NULL. */
static void
map_columns(BulkTable *t, const char *const *columns)
{
	TupleDesc desc = RelationGetDescr(t->rel);
	int found = 0;
	int ncols = 0;

	while (columns[ncols])
		ncols++;
	for (int a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);
		int c = 0;

		if (att->attisdropped)
			continue;
		while (c < ncols && strcmp(columns[c], NameStr(att->attname)) != 0)
			c++;
		if (c == ncols)
			ereport(ERROR,
			        (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			         errmsg("generate_synthetic does not know column %s of %s",
			                NameStr(att->attname),
			                RelationGetRelationName(t->rel)),
			         errhint("The extension's tables were altered; drop the "
			                 "column or reinstall the extension.")));
		t->attnum[c] = att->attnum;
		found++;
	}
	if (found != ncols)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
		                errmsg("a column of %s is missing",
		                       RelationGetRelationName(t->rel)),
		                errhint("The extension's tables were altered; "
		                        "reinstall the extension.")));
}

bool
pd_map_columns(Relation rel, const char *const *names, const Oid *types, int n,
               AttrNumber *attnum)
{
	TupleDesc desc = RelationGetDescr(rel);
	int found = 0;

	for (int a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);
		int c = 0;

		if (att->attisdropped)
			continue;
		while (c < n && strcmp(names[c], NameStr(att->attname)) != 0)
			c++;
		if (c == n || att->atttypid != types[c])
			return false;
		attnum[c] = att->attnum;
		found++;
	}
	return found == n;
}

bool
pd_only_known_checks(Relation rel, const char *const *known)
{
	TupleConstr *constr = RelationGetDescr(rel)->constr;

	for (int i = 0; constr != NULL && i < constr->num_check; i++)
	{
		int k = 0;

		while (known[k] && strcmp(known[k], constr->check[i].ccname) != 0)
			k++;
		if (known[k] == NULL)
			return false;
	}
	return true;
}

static void
bulk_open(BulkTable *t, Oid relid, const char *const *columns,
          const char *const *known_checks, bool internal)
{
	t->rel = table_open(relid, RowExclusiveLock);
	if (!internal)
		check_insert_allowed(t->rel);
	check_no_foreign_triggers(t->rel);
	map_columns(t, columns);
	t->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(t->rri, t->rel, 0, NULL, 0);
	ExecOpenIndices(t->rri, false);
	t->has_constraints = RelationGetDescr(t->rel)->constr != NULL;
	t->check_by_shape =
	    known_checks != NULL && pd_only_known_checks(t->rel, known_checks);
	memset(t->shape_checked, 0, sizeof(t->shape_checked));
	for (int i = 0; i < BULK_ROWS; i++)
		t->slots[i] = table_slot_create(t->rel, NULL);
	t->bistate = GetBulkInsertState();
	t->nused = 0;
}

void
pd_multi_insert(ResultRelInfo *rri, EState *estate, TupleTableSlot **slots,
                int n, CommandId cid, BulkInsertState bistate)
{
	if (n > 0)
		table_multi_insert(rri->ri_RelationDesc, slots, n, cid, 0, bistate);
	for (int i = 0; i < n; i++)
	{
		if (rri->ri_NumIndices > 0)
			list_free(ExecInsertIndexTuples(rri, slots[i], estate, false,
			                                false, NULL, NIL));
		ResetPerTupleExprContext(estate);
		ExecClearTuple(slots[i]);
	}
}

static void
bulk_flush(Writer *w, BulkTable *t)
{
	MemoryContext old = MemoryContextSwitchTo(w->flush_cxt);

	pd_multi_insert(t->rri, w->estate, t->slots, t->nused, w->cid, t->bistate);
	t->nused = 0;
	MemoryContextSwitchTo(old);
	MemoryContextReset(w->flush_cxt);
}

static void
bulk_close(Writer *w, BulkTable *t)
{
	bulk_flush(w, t);
	FreeBulkInsertState(t->bistate);
	table_finish_bulk_insert(t->rel, 0);
	ExecCloseIndices(t->rri);
	for (int i = 0; i < BULK_ROWS; i++)
		ExecDropSingleTupleTableSlot(t->slots[i]);
	table_close(t->rel, NoLock);
}

/* An empty row to fill, its datums to be built in the row context. */
static TupleTableSlot *
bulk_row(Writer *w, BulkTable *t)
{
	TupleTableSlot *slot = t->slots[t->nused];

	memset(slot->tts_isnull, true, slot->tts_tupleDescriptor->natts);
	MemoryContextSwitchTo(w->row_cxt);
	return slot;
}

static inline void
set_column(BulkTable *t, TupleTableSlot *slot, int column, Datum value)
{
	slot->tts_values[t->attnum[column] - 1] = value;
	slot->tts_isnull[t->attnum[column] - 1] = false;
}

/*
 * The row is complete: copy it into the slot, check it, queue it. 'shape'
 * identifies the row's kind for tables checked by shape, -1 otherwise.
 */
static void
bulk_add(Writer *w, BulkTable *t, MemoryContext caller_cxt, int shape)
{
	TupleTableSlot *slot = t->slots[t->nused];
	bool check = t->has_constraints;

	MemoryContextSwitchTo(caller_cxt);
	ExecStoreVirtualTuple(slot);
	ExecMaterializeSlot(slot);
	if (check && t->check_by_shape && shape >= 0)
	{
		check = !t->shape_checked[shape];
		t->shape_checked[shape] = true;
	}
	if (check)
	{
		ExecConstraints(t->rri, slot, w->estate);
		ResetPerTupleExprContext(w->estate);
	}
	MemoryContextReset(w->row_cxt);
	if (++t->nused == BULK_ROWS)
		bulk_flush(w, t);
}

static Datum
money_datum(int64 cents)
{
	return NumericGetDatum(int64_div_fast_to_numeric(cents, 2));
}

static Datum
uuid_datum(uint32 seed, int kind, uint64 n)
{
	pg_uuid_t *u = palloc(sizeof(pg_uuid_t));

	pd_synthetic_uuid(u, seed, kind, n);
	return UUIDPGetDatum(u);
}

static Datum
copy_uuid_datum(const pg_uuid_t *id)
{
	pg_uuid_t *u = palloc(sizeof(pg_uuid_t));

	*u = *id;
	return UUIDPGetDatum(u);
}

static Datum
merchant_datum(int32 merchant)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "M%06d", (int) merchant);
	return PointerGetDatum(cstring_to_text(buf));
}

void
pd_write_customer(Writer *w, const pg_uuid_t *id, int64 income, int salary_day,
                  Bracket bracket, AccountType account, TimestampTz opened_at,
                  int64 opening_balance, int64 min_balance)
{
	MemoryContext cxt = CurrentMemoryContext;
	BulkTable *t = &w->customers;
	TupleTableSlot *slot = bulk_row(w, t);

	set_column(t, slot, 0, copy_uuid_datum(id));
	set_column(t, slot, 1, money_datum(income));
	set_column(t, slot, 2, Int16GetDatum(salary_day));
	set_column(t, slot, 3, w->bracket[bracket]);
	set_column(t, slot, 4, w->account[account]);
	set_column(t, slot, 5, TimestampTzGetDatum(opened_at));
	set_column(t, slot, 6, money_datum(opening_balance));
	set_column(t, slot, 7, money_datum(min_balance));
	bulk_add(w, t, cxt, -1);
}

void
pd_write_transaction(Writer *w, const pg_uuid_t *customer, const DayEvent *e,
                     bool failed)
{
	MemoryContext cxt = CurrentMemoryContext;
	BulkTable *t = &w->transactions;
	TupleTableSlot *slot;

	/* what the shape check takes for granted */
	if (e->amount <= 0 || TIMESTAMP_NOT_FINITE(e->time))
		elog(ERROR,
		     "generate_synthetic made a transaction of " INT64_FORMAT " cents",
		     e->amount);
	slot = bulk_row(w, t);

	set_column(t, slot, 0, uuid_datum(w->seed, UUID_EVENT, w->next_event++));
	set_column(t, slot, 1, copy_uuid_datum(customer));
	set_column(t, slot, 2, TimestampTzGetDatum(e->time));
	set_column(t, slot, 3, money_datum(e->amount));
	set_column(t, slot, 4, CAT_IS_CREDIT(e->category) ? w->credit : w->debit);
	set_column(t, slot, 5, w->category[e->category]);
	set_column(t, slot, 6, w->channel[e->channel]);
	if (e->merchant >= 0)
		set_column(t, slot, 7, merchant_datum(e->merchant));
	set_column(t, slot, 8, BoolGetDatum(failed));
	bulk_add(
	    w, t, cxt,
	    ((e->category * N_CHANNELS + e->channel) * 2 + (e->merchant >= 0)) *
	            2 +
	        failed);
}

void
pd_write_payment(Writer *w, const pg_uuid_t *customer, const Obligation *o)
{
	MemoryContext cxt = CurrentMemoryContext;
	BulkTable *t = &w->payments;
	TupleTableSlot *slot = bulk_row(w, t);
	bool paid = o->state == OBL_PAID || o->state == OBL_PARTIAL;

	set_column(t, slot, 0,
	           uuid_datum(w->seed, UUID_PAYMENT, w->next_payment++));
	set_column(t, slot, 1, copy_uuid_datum(customer));
	set_column(t, slot, 2, w->kind[o->kind]);
	set_column(t, slot, 3, DateADTGetDatum(o->due));
	set_column(t, slot, 4, money_datum(o->amount));
	if (paid)
		set_column(t, slot, 5, DateADTGetDatum(o->paid_date));
	set_column(t, slot, 6, money_datum(paid ? o->paid : 0));
	bulk_add(w, t, cxt, -1);
}

static void
write_ledger(Writer *w, const pg_uuid_t *customer, DateADT month, int64 net)
{
	MemoryContext cxt = CurrentMemoryContext;
	BulkTable *t = &w->ledger;
	TupleTableSlot *slot = bulk_row(w, t);

	set_column(t, slot, 0, copy_uuid_datum(customer));
	set_column(t, slot, 1, DateADTGetDatum(month));
	set_column(t, slot, 2, Int64GetDatum(net));
	bulk_add(w, t, cxt, -1);
}

void
pd_write_ledger_rows(Writer *w, const pg_uuid_t *customer, int month0,
                     int nmonths, const int64 *month_net,
                     const bool *month_used)
{
	int64 total = 0;
	bool any = false;

	for (int k = 0; k < nmonths; k++)
	{
		int month = month0 + k;

		if (!month_used[k])
			continue;
		write_ledger(w, customer, pd_make_date(month / 12, month % 12 + 1, 1),
		             month_net[k]);
		total += month_net[k];
		any = true;
	}
	if (any)
		write_ledger(w, customer, DATEVAL_NOEND, total);
}

static Datum
text_constant(const char *s)
{
	return PointerGetDatum(cstring_to_text(s));
}

Writer *
pd_writer_open(uint32 seed)
{
	const PdSchema *schema = pd_schema();
	Writer *w = palloc0(sizeof(Writer));

	w->seed = seed;
	w->estate = CreateExecutorState();
	w->cid = GetCurrentCommandId(true);
	w->row_cxt = AllocSetContextCreate(CurrentMemoryContext, "synthetic row",
	                                   ALLOCSET_SMALL_SIZES);
	w->flush_cxt = AllocSetContextCreate(
	    CurrentMemoryContext, "synthetic flush", ALLOCSET_DEFAULT_SIZES);
	for (int i = 0; i < NUM_CATEGORIES; i++)
		w->category[i] = text_constant(pd_category_names[i]);
	for (int i = 0; i < N_CHANNELS; i++)
		w->channel[i] = text_constant(channel_names[i]);
	for (int i = 0; i < N_KINDS; i++)
		w->kind[i] = text_constant(kind_names[i]);
	for (int i = 0; i < 3; i++)
	{
		w->bracket[i] = text_constant(bracket_names[i]);
		w->account[i] = text_constant(account_names[i]);
	}
	w->credit = text_constant("credit");
	w->debit = text_constant("debit");

	/* referenced table first, the order the foreign keys would lock them */
	bulk_open(&w->customers, schema->customers, customer_columns, NULL, false);
	bulk_open(&w->transactions, schema->transactions, transaction_columns,
	          pd_known_transaction_checks, false);
	bulk_open(&w->payments, schema->payments, payment_columns, NULL, false);
	bulk_open(&w->ledger, schema->ledger, ledger_columns, NULL, true);
	return w;
}

void
pd_writer_close(Writer *w)
{
	bulk_close(w, &w->customers);
	bulk_close(w, &w->transactions);
	bulk_close(w, &w->payments);
	bulk_close(w, &w->ledger);
	FreeExecutorState(w->estate);
}
