/*
 * risk_bulk.c
 *    The fast path of policy.c's risk_scores INSERT: a batch's rows go in
 *    the way COPY writes them, and what that INSERT's triggers would do is
 *    done once per batch instead of once per row.
 *
 * INSERT INTO risk_scores runs, per row, two foreign key checks (customers,
 * models), each a query of its own, and then the outbox trigger, a plpgsql
 * function building every prediction event in SQL: together most of the
 * cost of recording an assessment. Here the referenced rows are locked FOR
 * KEY SHARE by one statement each (the lock those checks take), and the
 * prediction events are built as jsonb and written to the outbox directly,
 * as the outbox trigger (SECURITY DEFINER) would: as the outbox's owner,
 * with the same payload. This runs only while both tables are as the
 * extension made them (pd_risk_bulk_applicable); otherwise policy.c
 * INSERTs and every trigger fires.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "access/tableam.h"
#include "catalog/dependency.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/timestamp.h"

#include "bulk_writer.h"
#include "ingest.h"
#include "pd_util.h"
#include "pipeline.h"
#include "risk_bulk.h"
#include "schema.h"

#define BULK_ROWS   1000 /* rows per multi-insert, as COPY does */
#define MAX_COLUMNS 8    /* the wider table's, risk_scores' */

enum
{
	RS_SCORE_ID,
	RS_CUSTOMER_ID,
	RS_SCORED_AT,
	RS_AS_OF,
	RS_RISK_SCORE,
	RS_RISK_LEVEL,
	RS_MODEL_ID,
	RS_TOP_FEATURES,
	RS_COLUMNS
};
static const char *const risk_columns[RS_COLUMNS] = {
    "score_id",   "customer_id", "scored_at", "as_of",
    "risk_score", "risk_level",  "model_id",  "top_features"};
static const Oid risk_types[RS_COLUMNS] = {
    INT8OID,   UUIDOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
    FLOAT8OID, TEXTOID, INT4OID,        JSONBOID};

enum
{
	OB_OUTBOX_ID,
	OB_TOPIC,
	OB_MESSAGE_KEY,
	OB_PAYLOAD,
	OB_SOURCE_EVENT_TIME,
	OB_CREATED_AT,
	OB_COLUMNS
};
static const char *const outbox_columns[OB_COLUMNS] = {
    "outbox_id",         "topic",     "message_key", "payload",
    "source_event_time", "created_at"};
static const Oid outbox_types[OB_COLUMNS] = {
    INT8OID, TEXTOID, TEXTOID, JSONBOID, TIMESTAMPTZOID, TIMESTAMPTZOID};

StaticAssertDecl(RS_COLUMNS <= MAX_COLUMNS && OB_COLUMNS <= MAX_COLUMNS,
                 "MAX_COLUMNS too small");

/* Is 'conoid' one of the two foreign keys this file checks itself? */
static bool
known_foreign_key(Relation rel, Oid conoid, const AttrNumber *attnum)
{
	ListCell *lc;

	foreach (lc, RelationGetFKeyList(rel))
	{
		ForeignKeyCacheInfo *fk = lfirst(lc);

		if (fk->conoid != conoid || fk->nkeys != 1)
			continue;
		return (fk->confrelid == pd_schema()->customers &&
		        fk->conkey[0] == attnum[RS_CUSTOMER_ID]) ||
		       (fk->confrelid == pd_schema()->models &&
		        fk->conkey[0] == attnum[RS_MODEL_ID]);
	}
	return false;
}

/*
 * Whether every enabled trigger that fires on INSERT is one this file
 * replaces: the two foreign key checks and risk_scores_outbox (running
 * outbox_predictions after each statement), which must be enabled.
 */
static bool
known_risk_triggers_only(Relation rel, const AttrNumber *attnum)
{
	TriggerDesc *td = rel->trigdesc;
	bool outbox_trigger = false;

	for (int i = 0; td != NULL && i < td->numtriggers; i++)
	{
		Trigger *tg = &td->triggers[i];
		char *function;

		if (!TRIGGER_FOR_INSERT(tg->tgtype) ||
		    tg->tgenabled == TRIGGER_DISABLED)
			continue;
		if (tg->tgisinternal)
		{
			if (!known_foreign_key(rel, tg->tgconstraint, attnum))
				return false;
			continue;
		}
		function = get_func_name(tg->tgfoid);
		if (tg->tgenabled == TRIGGER_FIRES_ON_REPLICA ||
		    TRIGGER_FOR_ROW(tg->tgtype) || !TRIGGER_FOR_AFTER(tg->tgtype) ||
		    strcmp(tg->tgname, "risk_scores_outbox") != 0 ||
		    function == NULL || strcmp(function, "outbox_predictions") != 0 ||
		    get_func_namespace(tg->tgfoid) != pd_schema()->namespace_oid)
			return false;
		outbox_trigger = true;
	}
	return outbox_trigger;
}

static bool
has_insert_triggers(Relation rel)
{
	TriggerDesc *td = rel->trigdesc;

	for (int i = 0; td != NULL && i < td->numtriggers; i++)
		if (TRIGGER_FOR_INSERT(td->triggers[i].tgtype) &&
		    td->triggers[i].tgenabled != TRIGGER_DISABLED)
			return true;
	return false;
}

bool
pd_risk_bulk_applicable(void)
{
	Oid risk_scores = pd_schema()->risk_scores;
	Oid outbox = pd_schema()->outbox;
	AttrNumber attnum[MAX_COLUMNS];
	Relation rel;
	bool ok;

	if (SessionReplicationRole != SESSION_REPLICATION_ROLE_ORIGIN ||
	    pg_class_aclcheck(risk_scores, GetUserId(), ACL_INSERT) !=
	        ACLCHECK_OK ||
	    check_enable_rls(risk_scores, InvalidOid, true) == RLS_ENABLED)
		return false;
	rel = table_open(risk_scores, RowExclusiveLock);
	ok = rel->rd_rel->relkind == RELKIND_RELATION && rel->rd_rules == NULL &&
	     pd_map_columns(rel, risk_columns, risk_types, RS_COLUMNS, attnum) &&
	     known_risk_triggers_only(rel, attnum);
	table_close(rel, NoLock);
	if (!ok)
		return false;
	/* the trigger writes the outbox as its owner, whom forced row-level
	 * security would still bind: with any policy there, the trigger's way */
	rel = table_open(outbox, RowExclusiveLock);
	ok = rel->rd_rel->relkind == RELKIND_RELATION && rel->rd_rules == NULL &&
	     !rel->rd_rel->relrowsecurity &&
	     pd_map_columns(rel, outbox_columns, outbox_types, OB_COLUMNS,
	                    attnum) &&
	     !has_insert_triggers(rel);
	table_close(rel, NoLock);
	return ok;
}

static int
compare_uuids(const void *a, const void *b)
{
	return memcmp(a, b, UUID_LEN);
}

/*
 * The foreign keys' checks for the batch: the customers and the model
 * exist, locked FOR KEY SHARE until commit (so no DELETE can remove them
 * under the new rows), read as the referenced tables' owners, as those
 * checks read them.
 */
static void
lock_referenced_rows(const pg_uuid_t *customers, int n, int model_id)
{
	static SPIPlanPtr customers_plan = NULL;
	static SPIPlanPtr model_plan = NULL;
	pg_uuid_t *ids = palloc(sizeof(pg_uuid_t) * n);
	Datum *elems = palloc(sizeof(Datum) * n);
	int distinct = 0;
	PdAsOwner as;

	for (int i = 0; i < n; i++)
		ids[i] = customers[i];
	qsort(ids, n, sizeof(pg_uuid_t), compare_uuids);
	for (int i = 0; i < n; i++)
		if (i == 0 || compare_uuids(&ids[i - 1], &ids[i]) != 0)
			elems[distinct++] = UUIDPGetDatum(&ids[i]);

	pd_begin_as_owner(pd_schema()->customers, true, &as);
	pd_execute_kept(
	    &customers_plan,
	    "SELECT customer_id FROM pre_delinquency.customers "
	    "WHERE customer_id = ANY($1) ORDER BY customer_id "
	    "FOR KEY SHARE",
	    1, (Oid[]){UUIDARRAYOID},
	    (Datum[]){PointerGetDatum(construct_array(
	        elems, distinct, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR))},
	    NULL, false);
	pd_end_as_owner(&as);
	if (SPI_processed != (uint64) distinct)
		ereport(ERROR,
		        (errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
		         errmsg("insert on table \"risk_scores\" violates its foreign "
		                "key to \"customers\""),
		         errdetail("%d of the batch's %d customers do not exist.",
		                   distinct - (int) SPI_processed, distinct)));

	pd_begin_as_owner(pd_schema()->models, true, &as);
	pd_execute_kept(&model_plan,
	                "SELECT model_id FROM pre_delinquency.models "
	                "WHERE model_id = $1 FOR KEY SHARE",
	                1, (Oid[]){INT4OID}, (Datum[]){Int32GetDatum(model_id)},
	                NULL, false);
	pd_end_as_owner(&as);
	if (SPI_processed != 1)
		ereport(ERROR, (errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
		                errmsg("insert on table \"risk_scores\" violates its "
		                       "foreign key to \"models\""),
		                errdetail("Key (model_id)=(%d) is not present in "
		                          "table \"models\".",
		                          model_id)));
}

/* One table being written: its slots fill up, then go in together. */
typedef struct Target
{
	Relation rel;
	ResultRelInfo *rri;
	EState *estate;
	CommandId cid;
	AttrNumber attnum[MAX_COLUMNS];
	TupleTableSlot *slots[BULK_ROWS];
	int nslots;
	int nused;
} Target;

static void
target_open(Target *t, Oid relid, const char *const *names, const Oid *types,
            int ncolumns, int rows)
{
	t->rel = table_open(relid, RowExclusiveLock);
	if (!pd_map_columns(t->rel, names, types, ncolumns, t->attnum))
		elog(ERROR, "%s changed under the bulk path", get_rel_name(relid));
	t->estate = CreateExecutorState();
	t->cid = GetCurrentCommandId(true);
	t->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(t->rri, t->rel, 0, NULL, 0);
	ExecOpenIndices(t->rri, false);
	t->nslots = Min(rows, BULK_ROWS);
	for (int i = 0; i < t->nslots; i++)
		t->slots[i] = table_slot_create(t->rel, NULL);
	t->nused = 0;
}

/* The next row's slot, every column null but the identity column, 'id'. */
static TupleTableSlot *
target_row(Target *t, int64 id)
{
	TupleTableSlot *slot = t->slots[t->nused];

	memset(slot->tts_isnull, true, slot->tts_tupleDescriptor->natts);
	slot->tts_values[t->attnum[0] - 1] = Int64GetDatum(id);
	slot->tts_isnull[t->attnum[0] - 1] = false;
	return slot;
}

static inline void
set_column(Target *t, TupleTableSlot *slot, int column, Datum value)
{
	slot->tts_values[t->attnum[column] - 1] = value;
	slot->tts_isnull[t->attnum[column] - 1] = false;
}

static void
target_flush(Target *t)
{
	pd_multi_insert(t->rri, t->estate, t->slots, t->nused, t->cid, NULL);
	t->nused = 0;
}

/* The row is complete: NOT NULL and CHECK constraints, then queued. */
static void
target_add(Target *t)
{
	TupleTableSlot *slot = t->slots[t->nused];

	ExecStoreVirtualTuple(slot);
	if (RelationGetDescr(t->rel)->constr != NULL)
		ExecConstraints(t->rri, slot, t->estate);
	ResetPerTupleExprContext(t->estate);
	if (++t->nused == t->nslots)
		target_flush(t);
}

static void
target_close(Target *t)
{
	target_flush(t);
	ExecCloseIndices(t->rri);
	for (int i = 0; i < t->nslots; i++)
		ExecDropSingleTupleTableSlot(t->slots[i]);
	FreeExecutorState(t->estate);
	table_close(t->rel, NoLock);
}

/* A number as to_jsonb() writes it: the type's text form, as numeric. */
static void
push_number(JsonbParseState **state, const char *key, const char *text)
{
	JsonbValue v;

	pd_jsonb_push_key(state, key);
	v.type = jbvNumeric;
	v.val.numeric = DatumGetNumeric(
	    DirectFunctionCall3(numeric_in, CStringGetDatum(text),
	                        ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	pushJsonbValue(state, WJB_VALUE, &v);
}

static void
push_time(JsonbParseState **state, const char *key, TimestampTz t)
{
	pd_jsonb_push_string(state, key,
	                     JsonEncodeDateTime(NULL, TimestampTzGetDatum(t),
	                                        TIMESTAMPTZOID, NULL));
}

/*
 * The prediction event outbox_predictions() builds with jsonb_build_object:
 * the same keys and values (jsonb orders the keys itself).
 */
static Datum
prediction_event(int64 score_id, const PdRiskRow *r, const char *customer_id,
                 int model_id, TimestampTz scored_at, TimestampTz now)
{
	JsonbParseState *state = NULL;
	Jsonb *top = DatumGetJsonbP(r->top_features);
	JsonbValue features;
	MemoryContext caller = pd_jsonb_scratch_begin();

	/* keys in jsonb's order (shorter first, then bytewise): no sorting */
	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	pd_jsonb_push_string(&state, "event_id", psprintf(INT64_FORMAT, score_id));
	push_number(&state, "model_id", psprintf("%d", model_id));
	push_time(&state, "timestamp", scored_at);
	push_time(&state, "event_time", now);
	pd_jsonb_push_string(&state, "event_type", "prediction");
	pd_jsonb_push_string(&state, "risk_level", r->level);
	push_number(&state, "risk_score",
	            DatumGetCString(
	                DirectFunctionCall1(float8out, Float8GetDatum(r->score))));
	pd_jsonb_push_string(&state, "customer_id", customer_id);
	pd_jsonb_push_key(&state, "top_features");
	features.type = jbvBinary;
	features.val.binary.data = &top->root;
	features.val.binary.len = VARSIZE(top) - VARHDRSZ;
	pushJsonbValue(&state, WJB_VALUE, &features);
	return pd_jsonb_scratch_finish(
	    pushJsonbValue(&state, WJB_END_OBJECT, NULL), caller);
}

/* The outbox rows for the batch, as the outbox's owner. */
static void
write_prediction_events(const PdRiskRow *rows, const PdRiskIds *ids, int n,
                        int model_id, TimestampTz scored_at)
{
	Target t;
	Datum topic = CStringGetTextDatum(pd_predictions_topic != NULL &&
	                                          pd_predictions_topic[0] != '\0'
	                                      ? pd_predictions_topic
	                                      : "predictions-stream");
	PdAsOwner as;
	Oid outbox = pd_schema()->outbox;

	/* no statement meanwhile; may run in parallel mode (assess_all) */
	pd_begin_as_owner(outbox, false, &as);
	target_open(&t, outbox, outbox_columns, outbox_types, OB_COLUMNS, n);
	for (int i = 0; i < n; i++)
	{
		TupleTableSlot *slot = target_row(&t, ids->outbox_ids[i]);
		TimestampTz now = GetCurrentTimestamp();
		TimestampTz source;
		char *key = DatumGetCString(
		    DirectFunctionCall1(uuid_out, UUIDPGetDatum(rows[i].customer_id)));

		set_column(&t, slot, OB_TOPIC, topic);
		set_column(&t, slot, OB_MESSAGE_KEY, CStringGetTextDatum(key));
		set_column(&t, slot, OB_PAYLOAD,
		           prediction_event(ids->score_ids[i], &rows[i], key, model_id,
		                            scored_at, now));
		if (pd_source_event_time_of(rows[i].customer_id, &source))
			set_column(&t, slot, OB_SOURCE_EVENT_TIME,
			           TimestampTzGetDatum(source));
		set_column(&t, slot, OB_CREATED_AT, TimestampTzGetDatum(now));
		target_add(&t);
	}
	target_close(&t);
	pd_end_as_owner(&as);
}

/* n values of the identity column of 'relid' whose name is 'column' */
static int64 *
next_identity_values(Oid relid, const char *column, int n)
{
	Oid sequence =
	    getIdentitySequence(relid, get_attnum(relid, column), false);
	int64 *values = palloc(sizeof(int64) * n);

	for (int i = 0; i < n; i++)
		values[i] = nextval_internal(sequence, false);
	return values;
}

void
pd_risk_bulk_reserve(const pg_uuid_t *customers, int n, int model_id,
                     PdRiskIds *ids)
{
	lock_referenced_rows(customers, n, model_id);
	ids->score_ids =
	    next_identity_values(pd_schema()->risk_scores, "score_id", n);
	ids->outbox_ids =
	    next_identity_values(pd_schema()->outbox, "outbox_id", n);
}

void
pd_risk_bulk_write(const PdRiskRow *rows, int n, int model_id,
                   const PdRiskIds *ids)
{
	Target t;
	TimestampTz scored_at = GetCurrentTransactionStartTimestamp();

	if (n == 0)
		return;
	target_open(&t, pd_schema()->risk_scores, risk_columns, risk_types,
	            RS_COLUMNS, n);
	for (int i = 0; i < n; i++)
	{
		TupleTableSlot *slot = target_row(&t, ids->score_ids[i]);

		set_column(&t, slot, RS_CUSTOMER_ID,
		           UUIDPGetDatum(rows[i].customer_id));
		set_column(&t, slot, RS_SCORED_AT, TimestampTzGetDatum(scored_at));
		set_column(&t, slot, RS_AS_OF, TimestampTzGetDatum(rows[i].as_of));
		set_column(&t, slot, RS_RISK_SCORE, Float8GetDatum(rows[i].score));
		set_column(&t, slot, RS_RISK_LEVEL,
		           CStringGetTextDatum(rows[i].level));
		set_column(&t, slot, RS_MODEL_ID, Int32GetDatum(model_id));
		set_column(&t, slot, RS_TOP_FEATURES, rows[i].top_features);
		target_add(&t);
	}
	target_close(&t);
	write_prediction_events(rows, ids, n, model_id, scored_at);
}

void
pd_risk_bulk_insert(const PdRiskRow *rows, int n, int model_id)
{
	pg_uuid_t *customers;
	PdRiskIds ids;

	if (n == 0)
		return;
	customers = palloc(sizeof(pg_uuid_t) * n);
	for (int i = 0; i < n; i++)
		customers[i] = *rows[i].customer_id;
	pd_risk_bulk_reserve(customers, n, model_id, &ids);
	pd_risk_bulk_write(rows, n, model_id, &ids);
	/* later commands (the interventions) see the rows */
	CommandCounterIncrement();
}
