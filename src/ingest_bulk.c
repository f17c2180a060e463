/*
 * ingest_bulk.c
 *    The fast path of ingest.c: a batch's new transactions go in the way
 *    COPY writes rows (table_multi_insert, then index insertion, constraints
 *    checked), and their balance_ledger effect as one upsert per customer
 *    and month.
 *
 * INSERT would, per row, run the foreign key check against customers and
 * add the row to the ledger trigger's transition table. This path does what
 * those do once per batch instead: ingest.c has locked every distinct
 * customer FOR KEY SHARE (the lock the foreign key check takes, so a
 * customer cannot vanish before commit), and the ledger rows are summed
 * here, exactly as ledger_on_change() sums them. It therefore runs only
 * while the table is as the extension made it (pd_ingest_bulk_applicable);
 * otherwise, and whenever it fails, ingest.c falls back to INSERT.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/rls.h"

#include "bulk_writer.h"
#include "categories.h"
#include "ingest.h"
#include "ingest_bulk.h"
#include "pd_util.h"
#include "schema.h"

#define BULK_ROWS 1000 /* rows per multi-insert, as COPY does */
#define N_COLUMNS 9
#define N_SHAPES  (NUM_CATEGORIES * PD_NUM_CHANNELS * 4)

/* The columns in the order this file fills them, with their types. */
static const char *const column_names[N_COLUMNS] = {
    "event_id", "customer_id", "txn_time",    "amount",   "txn_type",
    "category", "channel",     "merchant_id", "is_failed"};
static const Oid column_types[N_COLUMNS] = {
    UUIDOID, UUIDOID, TIMESTAMPTZOID, NUMERICOID, TEXTOID,
    TEXTOID, TEXTOID, TEXTOID,        BOOLOID};

static bool
map_columns(Relation rel, AttrNumber *attnum)
{
	return pd_map_columns(rel, column_names, column_types, N_COLUMNS, attnum);
}

/*
 * The one foreign key, customer_id -> customers, whose check the caller's
 * lock replaces; InvalidOid if there is another one or none.
 */
static Oid
customer_foreign_key(Relation rel, AttrNumber customer_attnum)
{
	Oid conoid = InvalidOid;
	ListCell *lc;

	foreach (lc, RelationGetFKeyList(rel))
	{
		ForeignKeyCacheInfo *fk = lfirst(lc);

		if (fk->confrelid != pd_schema()->customers || fk->nkeys != 1 ||
		    fk->conkey[0] != customer_attnum || OidIsValid(conoid))
			return InvalidOid;
		conoid = fk->conoid;
	}
	return conoid;
}

/*
 * Whether every enabled trigger that fires on INSERT is one this path
 * replaces: the foreign key's check, and the ledger's statement trigger
 * (running ledger_on_change), which must be enabled.
 */
static bool
known_insert_triggers_only(Relation rel, Oid fk)
{
	TriggerDesc *td = rel->trigdesc;
	bool ledger_insert = false;

	for (int i = 0; td != NULL && i < td->numtriggers; i++)
	{
		Trigger *tg = &td->triggers[i];
		char *function;

		if (!TRIGGER_FOR_INSERT(tg->tgtype) ||
		    tg->tgenabled == TRIGGER_DISABLED ||
		    (tg->tgisinternal && OidIsValid(fk) && tg->tgconstraint == fk))
			continue;
		function = get_func_name(tg->tgfoid);
		if (tg->tgisinternal || tg->tgenabled == TRIGGER_FIRES_ON_REPLICA ||
		    strcmp(tg->tgname, "transactions_ledger_insert") != 0 ||
		    function == NULL || strcmp(function, "ledger_on_change") != 0 ||
		    get_func_namespace(tg->tgfoid) != pd_schema()->namespace_oid)
			return false;
		ledger_insert = true;
	}
	return ledger_insert;
}

bool
pd_ingest_bulk_applicable(void)
{
	const PdSchema *s = pd_schema();
	Relation rel;
	AttrNumber attnum[N_COLUMNS];
	bool ok;

	if (SessionReplicationRole != SESSION_REPLICATION_ROLE_ORIGIN ||
	    pg_class_aclcheck(s->transactions, GetUserId(), ACL_INSERT) !=
	        ACLCHECK_OK ||
	    check_enable_rls(s->transactions, InvalidOid, true) == RLS_ENABLED)
		return false;
	rel = table_open(s->transactions, RowExclusiveLock);
	ok = rel->rd_rel->relkind == RELKIND_RELATION && rel->rd_rules == NULL &&
	     map_columns(rel, attnum) &&
	     known_insert_triggers_only(rel, customer_foreign_key(rel, attnum[1]));
	table_close(rel, NoLock);
	return ok;
}

/* A customer's month (or 'infinity': the total) in the ledger. */
typedef struct LedgerKey
{
	pg_uuid_t customer_id;
	DateADT month;
} LedgerKey;

typedef struct LedgerSum
{
	LedgerKey key;
	int64 net_cents;
} LedgerSum;

static void
add_to_ledger(HTAB *sums, const uint8 *customer, DateADT month, int64 net)
{
	LedgerKey key;
	bool found;
	LedgerSum *sum;

	memset(&key, 0, sizeof(key));
	memcpy(key.customer_id.data, customer, UUID_LEN);
	key.month = month;
	sum = hash_search(sums, &key, HASH_ENTER, &found);
	sum->net_cents = (found ? sum->net_cents : 0) + net;
}

/*
 * ledger_on_change()'s INSERT for the batch: the net of the successful
 * events per customer and UTC month, and per customer under 'infinity'.
 * The ledger is internal, so like that SECURITY DEFINER trigger this writes
 * it as the table's owner.
 */
static void
upsert_ledger(const PdTxnEvent *const *events, int m)
{
	static SPIPlanPtr plan = NULL;
	HTAB *sums;
	HASH_SEQ_STATUS seq;
	LedgerSum *sum;
	long n;
	Datum *cols[3];
	Oid types[3] = {UUIDARRAYOID, DATEARRAYOID, INT8ARRAYOID};
	Datum args[3];
	int k = 0;
	PdAsOwner as;

	sums = pd_batch_hash("ingest ledger sums", sizeof(LedgerKey),
	                     sizeof(LedgerSum), m);
	for (int i = 0; i < m; i++)
	{
		const PdTxnEvent *e = events[i];
		struct pg_tm tm;
		fsec_t fsec;
		int64 net = e->credit ? e->amount_cents : -e->amount_cents;

		if (e->is_failed)
			continue;
		if (timestamp2tm(e->txn_time, NULL, &tm, &fsec, NULL, NULL) != 0)
			elog(ERROR, "txn_time out of range in ingest");
		add_to_ledger(sums, e->customer_id,
		              pd_make_date(tm.tm_year, tm.tm_mon, 1), net);
		add_to_ledger(sums, e->customer_id, DATEVAL_NOEND, net);
	}
	n = hash_get_num_entries(sums);
	if (n == 0)
		return;
	for (int c = 0; c < 3; c++)
		cols[c] = palloc(sizeof(Datum) * n);
	hash_seq_init(&seq, sums);
	while ((sum = hash_seq_search(&seq)) != NULL)
	{
		cols[0][k] = UUIDPGetDatum(&sum->key.customer_id);
		cols[1][k] = DateADTGetDatum(sum->key.month);
		cols[2][k++] = Int64GetDatum(sum->net_cents);
	}
	args[0] = PointerGetDatum(
	    construct_array(cols[0], n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	args[1] = PointerGetDatum(
	    construct_array(cols[1], n, DATEOID, 4, true, TYPALIGN_INT));
	args[2] = PointerGetDatum(construct_array(
	    cols[2], n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));

	pd_begin_as_owner(pd_schema()->ledger, true, &as);
	/* ordered so that concurrent writers lock ledger rows in one order */
	if (pd_execute_kept(
	        &plan,
	        "INSERT INTO pre_delinquency.balance_ledger AS l "
	        "(customer_id, month, net_cents) "
	        "SELECT * FROM unnest($1, $2, $3) ORDER BY 1, 2 "
	        "ON CONFLICT (customer_id, month) "
	        "DO UPDATE SET net_cents = l.net_cents + excluded.net_cents",
	        3, types, args, NULL, false) != SPI_OK_INSERT)
		elog(ERROR, "could not update balance_ledger");
	pd_end_as_owner(&as);
}

/*
 * The row shapes whose first row passed the CHECK constraints, kept across
 * batches until the schema is looked up again (after any relation cache
 * invalidation, such as a constraint added or dropped): preparing the
 * constraints' expressions again for every batch was a third of a small
 * batch's insert.
 */
static bool shape_checked[N_SHAPES];
static uint64 shapes_generation = 0;

/* What a batch's rows share: the table, its slots, the text constants. */
typedef struct Loader
{
	Relation rel;
	ResultRelInfo *rri;
	EState *estate;
	CommandId cid;
	AttrNumber attnum[N_COLUMNS];
	TupleTableSlot *slots[BULK_ROWS];
	int nused;
	bool check_by_shape;
	Datum credit, debit;
	Datum category[NUM_CATEGORIES];
	Datum channel[PD_NUM_CHANNELS];
} Loader;

static void
flush_rows(Loader *ld)
{
	/* no BulkInsertState: its ring would push the new pages, which the
	 * assessments read next, out of shared buffers */
	pd_multi_insert(ld->rri, ld->estate, ld->slots, ld->nused, ld->cid, NULL);
	ld->nused = 0;
}

static void
add_row(Loader *ld, const pg_uuid_t *event_id, const PdTxnEvent *e)
{
	TupleTableSlot *slot = ld->slots[ld->nused];
	Datum *v = slot->tts_values;
	bool *null = slot->tts_isnull;
	const AttrNumber *a = ld->attnum;
	int shape =
	    ((e->category * PD_NUM_CHANNELS + e->channel) * 2 + e->has_merchant) *
	        2 +
	    e->is_failed;

	memset(null, false, slot->tts_tupleDescriptor->natts);
	v[a[0] - 1] = UUIDPGetDatum(event_id);
	v[a[1] - 1] = UUIDPGetDatum((pg_uuid_t *) e->customer_id);
	v[a[2] - 1] = TimestampTzGetDatum(e->txn_time);
	v[a[3] - 1] =
	    NumericGetDatum(int64_div_fast_to_numeric(e->amount_cents, 2));
	v[a[4] - 1] = e->credit ? ld->credit : ld->debit;
	v[a[5] - 1] = ld->category[e->category];
	v[a[6] - 1] = ld->channel[e->channel];
	if (e->has_merchant)
		v[a[7] - 1] = CStringGetTextDatum(e->merchant_id);
	else
		null[a[7] - 1] = true;
	v[a[8] - 1] = BoolGetDatum(e->is_failed);
	ExecStoreVirtualTuple(slot);
	if (!ld->check_by_shape || !shape_checked[shape])
	{
		ExecConstraints(ld->rri, slot, ld->estate);
		ResetPerTupleExprContext(ld->estate);
		shape_checked[shape] = true;
	}
	if (++ld->nused == BULK_ROWS)
		flush_rows(ld);
}

/* qsort_arg: events by (customer_id, txn_time), the index's order */
static int
compare_index_order(const void *a, const void *b, void *arg)
{
	const PdTxnEvent *const *events = arg;
	const PdTxnEvent *x = events[*(const int *) a];
	const PdTxnEvent *y = events[*(const int *) b];
	int c = memcmp(x->customer_id, y->customer_id, sizeof(x->customer_id));

	if (c != 0)
		return c;
	return x->txn_time < y->txn_time ? -1 : x->txn_time > y->txn_time;
}

void
pd_ingest_bulk_insert(const pg_uuid_t *const *event_ids,
                      const PdTxnEvent *const *events, int m)
{
	Loader *ld = palloc0(sizeof(Loader));
	int nslots = Min(m, BULK_ROWS);
	int *order;

	ld->rel = table_open(pd_schema()->transactions, RowExclusiveLock);
	if (!map_columns(ld->rel, ld->attnum))
		elog(ERROR, "transactions changed under the ingest bulk path");
	ld->estate = CreateExecutorState();
	ld->cid = GetCurrentCommandId(true);
	ld->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(ld->rri, ld->rel, 0, NULL, 0);
	ExecOpenIndices(ld->rri, false);
	/* parsing guarantees what the install script's checks test */
	ld->check_by_shape =
	    pd_only_known_checks(ld->rel, pd_known_transaction_checks);
	if (pd_schema()->generation != shapes_generation)
	{
		memset(shape_checked, 0, sizeof(shape_checked));
		shapes_generation = pd_schema()->generation;
	}
	for (int i = 0; i < nslots; i++)
		ld->slots[i] = table_slot_create(ld->rel, NULL);
	ld->credit = CStringGetTextDatum("credit");
	ld->debit = CStringGetTextDatum("debit");
	for (int i = 0; i < NUM_CATEGORIES; i++)
		ld->category[i] = CStringGetTextDatum(pd_category_names[i]);
	for (int i = 0; i < PD_NUM_CHANNELS; i++)
		ld->channel[i] = CStringGetTextDatum(pd_channel_names[i]);

	/*
	 * In the order of transactions_customer_time_idx: a customer's events
	 * go to neighbouring index entries and heap rows, so each insertion
	 * finds the pages the previous one touched still in the CPU's cache,
	 * and the assessments that follow read fewer heap pages per customer.
	 */
	order = palloc(sizeof(int) * m);
	for (int i = 0; i < m; i++)
		order[i] = i;
	qsort_arg(order, m, sizeof(int), compare_index_order, (void *) events);
	for (int i = 0; i < m; i++)
		add_row(ld, event_ids[order[i]], events[order[i]]);
	flush_rows(ld);

	ExecCloseIndices(ld->rri);
	for (int i = 0; i < nslots; i++)
		ExecDropSingleTupleTableSlot(ld->slots[i]);
	FreeExecutorState(ld->estate);
	table_close(ld->rel, NoLock);
	/* later commands (the ledger upsert, assessments) see the rows */
	CommandCounterIncrement();
	upsert_ledger(events, m);
}
