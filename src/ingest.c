/*
 * ingest.c
 *    Applies batches of raw transaction events: validation (event_json.c),
 *    unknown customers, idempotent inserts, dead letters, and re-assessment
 *    of the customers the score_triggers rules pick (policy.c). Shared by
 *    the ingest worker and the SQL functions ingest_events and
 *    replay_dead_letters, so the rules are the same whichever way events
 *    arrive.
 *
 * Everything happens in the caller's transaction; the worker adds the
 * consumer offsets to the same transaction. Nothing here talks to Kafka.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/md5.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "categories.h"
#include "event_json.h"
#include "ingest.h"
#include "ingest_bulk.h"
#include "pd_util.h"
#include "policy.h"
#include "schema.h"

/* Events more than a day ahead of the clock are refused. */
#define MAX_FUTURE_USECS (PD_USECS_PER_DAY)

/* One message on its way through the batch. */
typedef struct IngestItem
{
	const PdIngestMessage *msg;
	PdTxnEvent event;
	pg_uuid_t event_id;
	bool ok;       /* still a candidate for insertion */
	bool inserted; /* went in as a new transaction */
	const char *reason;
	char detail[256];
} IngestItem;

/* A customer the triggers picked, as of its latest triggering event. */
typedef struct Candidate
{
	pg_uuid_t customer_id; /* hash key */
	TimestampTz as_of;
	double min_interval_secs;
} Candidate;

HTAB *
pd_batch_hash(const char *name, Size keysize, Size entrysize, long nelem)
{
	HASHCTL ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = CurrentMemoryContext;
	return hash_create(name, Max(nelem, 16), &ctl,
	                   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

static void
reject(IngestItem *item, const char *reason, const char *detail)
{
	item->ok = false;
	item->reason = reason;
	strlcpy(item->detail, detail ? detail : "", sizeof(item->detail));
}

/*
 * A stable id for an event that has none: from its place in the topic, so
 * that consuming it again finds the same row; SQL input without a place is
 * identified by its content.
 */
static void
derive_event_id(const PdIngestMessage *msg, pg_uuid_t *id)
{
	const char *errstr = NULL;
	char *source;

	if (msg->partition >= 0)
		source = psprintf("%s/%d/%lld", msg->topic, msg->partition,
		                  (long long) msg->offset);
	else
	{
		source = palloc(msg->payload_len + 1);
		memcpy(source, msg->payload, msg->payload_len);
		source[msg->payload_len] = '\0';
	}
	if (!pg_md5_binary(source, strlen(source), id->data, &errstr))
		elog(ERROR, "could not derive an event id: %s", errstr);
	id->data[6] = (id->data[6] & 0x0f) | 0x30; /* version 3: name-based */
	id->data[8] = (id->data[8] & 0x3f) | 0x80;
}

static void
parse_items(IngestItem *items, const PdIngestMessage *messages, int n)
{
	TimestampTz horizon = GetCurrentTimestamp() + MAX_FUTURE_USECS;

	for (int i = 0; i < n; i++)
	{
		IngestItem *item = &items[i];
		PdEventError error;

		memset(item, 0, sizeof(IngestItem));
		item->msg = &messages[i];
		item->ok = true;
		if (messages[i].payload == NULL)
		{
			reject(item, "malformed_json", "empty message (no payload)");
			continue;
		}
		error = pd_parse_txn_event(messages[i].payload,
		                           messages[i].payload_len, &item->event,
		                           item->detail, sizeof(item->detail));
		if (error != PD_EVENT_OK)
		{
			item->ok = false;
			item->reason = pd_event_error_name(error);
			continue;
		}
		if (item->event.txn_time > horizon)
		{
			reject(item, "bad_time",
			       "txn_time is more than a day in the future");
			continue;
		}
		if (item->event.has_event_id)
			memcpy(item->event_id.data, item->event.event_id, UUID_LEN);
		else
			derive_event_id(item->msg, &item->event_id);
	}
}

/*
 * Dead-letters the events whose customer does not exist, and locks the
 * customers that do FOR KEY SHARE until commit, once each: the lock the
 * foreign key check of an INSERT takes, so that no customer can be deleted
 * (or its key changed) before its transactions are in. Like that check, it
 * runs as the owner of customers.
 */
static void
lock_known_customers(IngestItem *items, int n)
{
	static SPIPlanPtr lock_plan = NULL;
	HTAB *known;
	Datum *ids = palloc(sizeof(Datum) * Max(n, 1));
	int m = 0;
	Oid type = UUIDARRAYOID;
	Datum arg;
	PdAsOwner as;

	known = pd_batch_hash("ingest customers", sizeof(pg_uuid_t),
	                      sizeof(pg_uuid_t), n);
	for (int i = 0; i < n; i++)
	{
		bool found;

		if (!items[i].ok)
			continue;
		hash_search(known, items[i].event.customer_id, HASH_ENTER, &found);
		if (!found)
			ids[m++] = UUIDPGetDatum((pg_uuid_t *) items[i].event.customer_id);
	}
	if (m == 0)
		return;
	arg = PointerGetDatum(
	    construct_array(ids, m, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	pd_begin_as_owner(pd_schema()->customers, true, &as);
	pd_execute_kept(&lock_plan,
	                "SELECT customer_id FROM pre_delinquency.customers "
	                "WHERE customer_id = ANY($1) ORDER BY customer_id "
	                "FOR KEY SHARE",
	                1, &type, &arg, NULL, false);
	pd_end_as_owner(&as);

	/* the table now holds only the customers that exist */
	hash_destroy(known);
	known = pd_batch_hash("ingest customers", sizeof(pg_uuid_t),
	                      sizeof(pg_uuid_t), SPI_processed);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool isnull;

		hash_search(
		    known,
		    DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[r],
		                                SPI_tuptable->tupdesc, 1, &isnull)),
		    HASH_ENTER, NULL);
	}
	for (int i = 0; i < n; i++)
		if (items[i].ok && hash_search(known, items[i].event.customer_id,
		                               HASH_FIND, NULL) == NULL)
			reject(&items[i], "unknown_customer",
			       "customer_id is not in pre_delinquency.customers");
}

/* An event id and the batch position of its first occurrence. */
typedef struct IdSlot
{
	pg_uuid_t event_id; /* hash key */
	int position;
} IdSlot;

/*
 * Marks the events whose ids the INSERT returned. The first occurrence of an
 * id is the one that went in (unnest order); a hash keeps this linear.
 */
static void
mark_inserted(IngestItem *items, const int *idx, int m)
{
	HTAB *first = pd_batch_hash("ingest event ids", sizeof(pg_uuid_t),
	                            sizeof(IdSlot), m);
	for (int j = 0; j < m; j++)
	{
		bool found;
		IdSlot *slot =
		    hash_search(first, &items[idx[j]].event_id, HASH_ENTER, &found);

		if (!found)
			slot->position = idx[j];
	}
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool isnull;
		pg_uuid_t *id = DatumGetUUIDP(SPI_getbinval(
		    SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
		IdSlot *slot = hash_search(first, id, HASH_FIND, NULL);

		if (slot != NULL)
			items[slot->position].inserted = true;
	}
	hash_destroy(first);
}

/*
 * INSERT ... ON CONFLICT (event_id) DO NOTHING for items[idx[0..m)],
 * marking the ones that went in.
 */
static void
insert_transactions(IngestItem *items, const int *idx, int m)
{
	Oid types[9] = {UUIDARRAYOID, UUIDARRAYOID, TIMESTAMPTZARRAYOID,
	                INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
	                TEXTARRAYOID, TEXTARRAYOID, BOOLARRAYOID};
	Datum args[9];
	Datum *cols[9];
	bool *merchant_nulls = palloc(sizeof(bool) * m);
	int dims[1] = {m};
	int lbs[1] = {1};

	for (int c = 0; c < 9; c++)
		cols[c] = palloc(sizeof(Datum) * m);
	for (int j = 0; j < m; j++)
	{
		IngestItem *it = &items[idx[j]];
		PdTxnEvent *e = &it->event;

		cols[0][j] = UUIDPGetDatum(&it->event_id);
		cols[1][j] = UUIDPGetDatum((pg_uuid_t *) e->customer_id);
		cols[2][j] = TimestampTzGetDatum(e->txn_time);
		cols[3][j] = Int64GetDatum(e->amount_cents);
		cols[4][j] = CStringGetTextDatum(e->credit ? "credit" : "debit");
		cols[5][j] = CStringGetTextDatum(pd_category_names[e->category]);
		cols[6][j] = CStringGetTextDatum(pd_channel_names[e->channel]);
		merchant_nulls[j] = !e->has_merchant;
		cols[7][j] = e->has_merchant ? CStringGetTextDatum(e->merchant_id) : 0;
		cols[8][j] = BoolGetDatum(e->is_failed);
	}
	args[0] = PointerGetDatum(
	    construct_array(cols[0], m, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	args[1] = PointerGetDatum(
	    construct_array(cols[1], m, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	args[2] = PointerGetDatum(construct_array(
	    cols[2], m, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[3] = PointerGetDatum(construct_array(
	    cols[3], m, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	for (int c = 4; c <= 6; c++)
		args[c] = PointerGetDatum(
		    construct_array(cols[c], m, TEXTOID, -1, false, TYPALIGN_INT));
	args[7] = PointerGetDatum(construct_md_array(cols[7], merchant_nulls, 1,
	                                             dims, lbs, TEXTOID, -1, false,
	                                             TYPALIGN_INT));
	args[8] = PointerGetDatum(
	    construct_array(cols[8], m, BOOLOID, 1, true, TYPALIGN_CHAR));

	if (SPI_execute_with_args(
	        "INSERT INTO pre_delinquency.transactions (event_id, customer_id, "
	        "  txn_time, amount, txn_type, category, channel, merchant_id, "
	        "is_failed) "
	        "SELECT e, c, t, a::numeric / 100, ty, ca, ch, m, f "
	        "FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9) AS u(e, c, t, a, "
	        "ty, ca, ch, m, f) "
	        "ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
	        9, types, args, NULL, false, 0) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not insert transactions");

	mark_inserted(items, idx, m);
}

/*
 * Runs step(arg) in a subtransaction: on success keeps its work and returns
 * NULL; on an ERROR rolls it back and returns the error (the caller decides:
 * dead letters, a warning). The caller's SPI connection survives either way.
 */
static ErrorData *
run_in_subtransaction(void (*step)(void *), void *arg)
{
	MemoryContext caller = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData *volatile failure = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(caller);
	PG_TRY();
	{
		step(arg);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(caller);
		failure = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
	CurrentResourceOwner = owner;
	return failure;
}

typedef struct InsertStep
{
	IngestItem *items;
	const int *idx;
	int m;
} InsertStep;

static void
insert_step(void *arg)
{
	InsertStep *s = arg;

	insert_transactions(s->items, s->idx, s->m);
}

/*
 * insert_transactions(items[idx[0..m)]) in a subtransaction; the error
 * message if the database refused the set, or NULL.
 */
static char *
try_insert(IngestItem *items, const int *idx, int m)
{
	InsertStep step = {items, idx, m};
	ErrorData *failure = run_in_subtransaction(insert_step, &step);

	if (failure == NULL)
		return NULL;
	for (int j = 0; j < m; j++)
		items[idx[j]].inserted = false;
	return failure->message;
}

/* items[idx[0..m)] without the repeated event ids: first occurrences kept */
static int
first_occurrences(IngestItem *items, const int *idx, int m, int *first)
{
	HTAB *seen = pd_batch_hash("ingest event ids", sizeof(pg_uuid_t),
	                           sizeof(pg_uuid_t), m);
	int k = 0;
	for (int j = 0; j < m; j++)
	{
		bool found;

		hash_search(seen, &items[idx[j]].event_id, HASH_ENTER, &found);
		if (!found)
			first[k++] = idx[j];
	}
	hash_destroy(seen);
	return k;
}

static void
bulk_step(void *arg)
{
	InsertStep *s = arg;
	const pg_uuid_t **ids = palloc(sizeof(pg_uuid_t *) * s->m);
	const PdTxnEvent **events = palloc(sizeof(PdTxnEvent *) * s->m);

	for (int j = 0; j < s->m; j++)
	{
		ids[j] = &s->items[s->idx[j]].event_id;
		events[j] = &s->items[s->idx[j]].event;
	}
	pd_ingest_bulk_insert(ids, events, s->m);
}

/*
 * items[idx[0..m)] through the bulk path (ingest_bulk.c), in a
 * subtransaction; false if it does not apply or failed, e.g. on an
 * event_id that is already there: then INSERT ... ON CONFLICT sorts it out.
 */
static bool
try_bulk_insert(IngestItem *items, const int *idx, int m)
{
	int *first;
	InsertStep step;
	ErrorData *failure;

	if (!pd_ingest_bulk_applicable())
		return false;
	first = palloc(sizeof(int) * m);
	step.items = items;
	step.idx = first;
	step.m = first_occurrences(items, idx, m, first);
	failure = run_in_subtransaction(bulk_step, &step);
	if (failure != NULL)
	{
		elog(DEBUG1, "ingest falls back to INSERT: %s", failure->message);
		return false;
	}
	for (int j = 0; j < step.m; j++)
		items[first[j]].inserted = true;
	return true;
}

/*
 * The valid events in one statement; if the database still refuses it
 * (a customer deleted meanwhile, a constraint added by the DBA), each event
 * alone, so that only the refused ones become dead letters.
 */
static void
insert_valid_events(IngestItem *items, int n)
{
	int *idx = palloc(sizeof(int) * n);
	int m = 0;

	for (int i = 0; i < n; i++)
		if (items[i].ok)
			idx[m++] = i;
	if (m == 0 || try_bulk_insert(items, idx, m) ||
	    try_insert(items, idx, m) == NULL)
		return;
	for (int j = 0; j < m; j++)
	{
		char *failure = try_insert(items, &idx[j], 1);

		if (failure != NULL)
			reject(&items[idx[j]], "rejected_by_database", failure);
	}
}

static Datum
bytes_datum(const char *data, size_t len)
{
	bytea *b = palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	if (len > 0)
		memcpy(VARDATA(b), data, len);
	return PointerGetDatum(b);
}

/*
 * The batch's new dead letters, many per statement: a row per statement
 * (parsed and planned each time) cost ~60 us, so a flood of bad events (a
 * misconfigured producer, customers not loaded yet) slowed the worker to
 * ~16,000 events/s. A statement takes up to DEAD_LETTER_ROWS rows or about
 * DEAD_LETTER_BYTES of raw bytes, keeping its arrays far below the 1 GB a
 * datum may hold.
 */
#define DEAD_LETTER_ROWS  1000
#define DEAD_LETTER_BYTES (16 * 1024 * 1024)

typedef struct DeadLetterRows
{
	int n;
	size_t bytes;
	Datum topic[DEAD_LETTER_ROWS], partition[DEAD_LETTER_ROWS],
	    offset[DEAD_LETTER_ROWS], key[DEAD_LETTER_ROWS],
	    payload[DEAD_LETTER_ROWS], reason[DEAD_LETTER_ROWS],
	    detail[DEAD_LETTER_ROWS];
	bool no_key[DEAD_LETTER_ROWS], no_payload[DEAD_LETTER_ROWS];
} DeadLetterRows;

static Datum
array_of(const Datum *values, const bool *nulls, int n, Oid type)
{
	int16 len;
	bool byval;
	char align;
	int dims[1] = {n};
	int lbs[1] = {1};

	get_typlenbyvalalign(type, &len, &byval, &align);
	return PointerGetDatum(construct_md_array((Datum *) values, (bool *) nulls,
	                                          1, dims, lbs, type, len, byval,
	                                          align));
}

/*
 * Dead letters are the ingest's own bookkeeping, written as the table's
 * owner (as the ledger is): a caller of ingest_events or
 * replay_dead_letters needs no INSERT or UPDATE on them (an operator may
 * read and delete them, nothing more).
 */
static void
flush_dead_letters(DeadLetterRows *rows)
{
	static SPIPlanPtr plan = NULL;
	PdAsOwner as;
	Oid types[7] = {TEXTARRAYOID,  INT4ARRAYOID, INT8ARRAYOID, BYTEAARRAYOID,
	                BYTEAARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
	Datum args[7];

	if (rows->n == 0)
		return;
	args[0] = array_of(rows->topic, NULL, rows->n, TEXTOID);
	args[1] = array_of(rows->partition, NULL, rows->n, INT4OID);
	args[2] = array_of(rows->offset, NULL, rows->n, INT8OID);
	args[3] = array_of(rows->key, rows->no_key, rows->n, BYTEAOID);
	args[4] = array_of(rows->payload, rows->no_payload, rows->n, BYTEAOID);
	args[5] = array_of(rows->reason, NULL, rows->n, TEXTOID);
	args[6] = array_of(rows->detail, NULL, rows->n, TEXTOID);
	pd_begin_as_owner(pd_schema()->dead_letters, true, &as);
	pd_execute_kept(&plan,
	                "INSERT INTO pre_delinquency.dead_letters (topic, "
	                "kafka_partition, kafka_offset, message_key, payload, "
	                "reason, detail) "
	                "SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7)",
	                7, types, args, NULL, false);
	pd_end_as_owner(&as);
	rows->n = 0;
	rows->bytes = 0;
}

static void
add_dead_letter(DeadLetterRows *rows, const IngestItem *item)
{
	const PdIngestMessage *msg = item->msg;
	int i = rows->n;

	rows->topic[i] = CStringGetTextDatum(msg->topic);
	rows->partition[i] = Int32GetDatum(msg->partition);
	rows->offset[i] = Int64GetDatum(msg->offset);
	rows->no_key[i] = msg->key == NULL;
	if (msg->key != NULL)
		rows->key[i] = bytes_datum(msg->key, msg->key_len);
	rows->no_payload[i] = msg->payload == NULL;
	if (msg->payload != NULL)
		rows->payload[i] = bytes_datum(msg->payload, msg->payload_len);
	rows->reason[i] = CStringGetTextDatum(item->reason);
	rows->detail[i] = CStringGetTextDatum(item->detail);
	rows->n++;
	rows->bytes += msg->key_len + msg->payload_len;
	if (rows->n == DEAD_LETTER_ROWS || rows->bytes >= DEAD_LETTER_BYTES)
		flush_dead_letters(rows);
}

/* A replayed dead letter: deleted if it went in, else its new reason. */
static void
settle_replayed(const IngestItem *item, PdIngestStats *stats)
{
	static SPIPlanPtr delete_plan = NULL;
	static SPIPlanPtr update_plan = NULL;
	Oid types[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum args[3] = {Int64GetDatum(item->msg->dead_letter_id), 0, 0};
	PdAsOwner as;

	pd_begin_as_owner(pd_schema()->dead_letters, true, &as);
	if (item->ok)
	{
		pd_execute_kept(&delete_plan,
		                "DELETE FROM pre_delinquency.dead_letters "
		                "WHERE dead_letter_id = $1",
		                1, types, args, NULL, false);
		stats->replayed++;
	}
	else
	{
		args[1] = CStringGetTextDatum(item->reason);
		args[2] = CStringGetTextDatum(item->detail);
		pd_execute_kept(&update_plan,
		                "UPDATE pre_delinquency.dead_letters SET "
		                "reason = $2, detail = $3, "
		                "replay_attempts = replay_attempts + 1 "
		                "WHERE dead_letter_id = $1",
		                3, types, args, NULL, false);
		stats->dead_letters++;
	}
	pd_end_as_owner(&as);
}

/*
 * New dead letters for the rejected items; a replayed dead letter that
 * failed again keeps its row with the new reason, one that went in is
 * deleted.
 */
static void
record_dead_letters(IngestItem *items, int n, PdIngestStats *stats)
{
	DeadLetterRows *rows = palloc(sizeof(DeadLetterRows));

	rows->n = 0;
	rows->bytes = 0;
	for (int i = 0; i < n; i++)
	{
		if (items[i].msg->dead_letter_id > 0)
			settle_replayed(&items[i], stats);
		else if (!items[i].ok)
		{
			add_dead_letter(rows, &items[i]);
			stats->dead_letters++;
		}
	}
	flush_dead_letters(rows);
	pfree(rows);
}

/* The enabled score_triggers rules, read once per batch. */
typedef struct TriggerRules
{
	bool every, failed, large, atm, bill, salary;
	int64 min_amount_cents;
	double interval_secs[6];
} TriggerRules;

enum
{
	RULE_EVERY,
	RULE_FAILED,
	RULE_LARGE,
	RULE_ATM,
	RULE_BILL,
	RULE_SALARY
};

static void
load_trigger_rules(TriggerRules *rules)
{
	static SPIPlanPtr plan = NULL;

	memset(rules, 0, sizeof(TriggerRules));
	rules->min_amount_cents = PG_INT64_MAX;
	pd_execute_kept(&plan,
	                "SELECT rule, coalesce((min_amount * 100)::int8, 0), "
	                "extract(epoch FROM min_interval)::float8 "
	                "FROM pre_delinquency.score_triggers WHERE enabled",
	                0, NULL, NULL, NULL, true);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple t = SPI_tuptable->vals[r];
		TupleDesc d = SPI_tuptable->tupdesc;
		bool isnull;
		char *rule = SPI_getvalue(t, d, 1);
		int64 min_amount = DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
		double secs = DatumGetFloat8(SPI_getbinval(t, d, 3, &isnull));
		int which = strcmp(rule, "every_transaction") == 0    ? RULE_EVERY
		            : strcmp(rule, "failed_transaction") == 0 ? RULE_FAILED
		            : strcmp(rule, "large_amount") == 0       ? RULE_LARGE
		            : strcmp(rule, "atm_withdrawal") == 0     ? RULE_ATM
		            : strcmp(rule, "bill_payment") == 0       ? RULE_BILL
		                                                      : RULE_SALARY;

		rules->interval_secs[which] = secs;
		switch (which)
		{
			case RULE_EVERY:
				rules->every = true;
				break;
			case RULE_FAILED:
				rules->failed = true;
				break;
			case RULE_LARGE:
				rules->large = true;
				rules->min_amount_cents = min_amount;
				break;
			case RULE_ATM:
				rules->atm = true;
				break;
			case RULE_BILL:
				rules->bill = true;
				break;
			default:
				rules->salary = true;
				break;
		}
	}
}

/* The least min_interval of the rules the event matches, or -1: none. */
static double
matching_interval(const TriggerRules *rules, const PdTxnEvent *e)
{
	double best = -1;
	bool match[6];

	match[RULE_EVERY] = rules->every;
	match[RULE_FAILED] = rules->failed && e->is_failed;
	match[RULE_LARGE] = rules->large && !e->credit &&
	                    e->amount_cents >= rules->min_amount_cents;
	match[RULE_ATM] = rules->atm && !e->credit &&
	                  strcmp(pd_channel_names[e->channel], "atm") == 0;
	match[RULE_BILL] =
	    rules->bill && !e->credit &&
	    (e->category == CAT_UTILITIES || e->category == CAT_RENT ||
	     e->category == CAT_INSURANCE || e->category == CAT_LOAN_PAYMENT);
	match[RULE_SALARY] =
	    rules->salary && e->credit && e->category == CAT_SALARY;
	for (int r = 0; r < 6; r++)
		if (match[r] && (best < 0 || rules->interval_secs[r] < best))
			best = rules->interval_secs[r];
	return best;
}

/*
 * Re-assesses the customers of newly inserted events that a rule picks,
 * each as of just after its latest such event, unless it was assessed
 * within the rule's min_interval.
 */
static void
reassess_customers(IngestItem *items, int n, PdIngestStats *stats)
{
	static SPIPlanPtr due_plan = NULL;
	TriggerRules rules;
	HTAB *picked;
	HASH_SEQ_STATUS seq;
	Candidate *cand;
	int m = 0;
	Datum *ids;
	Datum *secs;
	Oid types[2] = {UUIDARRAYOID, FLOAT8ARRAYOID};
	Datum args[2];
	pg_uuid_t *due;
	TimestampTz *as_of;

	load_trigger_rules(&rules);
	picked = pd_batch_hash("ingest candidates", sizeof(pg_uuid_t),
	                       sizeof(Candidate), n);
	for (int i = 0; i < n; i++)
	{
		double secs_i;
		bool found;

		if (!items[i].inserted ||
		    (secs_i = matching_interval(&rules, &items[i].event)) < 0)
			continue;
		cand = hash_search(picked, items[i].event.customer_id, HASH_ENTER,
		                   &found);
		if (!found || items[i].event.txn_time + 1 > cand->as_of)
			cand->as_of = items[i].event.txn_time + 1;
		if (!found || secs_i < cand->min_interval_secs)
			cand->min_interval_secs = secs_i;
	}
	if (hash_get_num_entries(picked) == 0)
		return;

	ids = palloc(sizeof(Datum) * hash_get_num_entries(picked));
	secs = palloc(sizeof(Datum) * hash_get_num_entries(picked));
	hash_seq_init(&seq, picked);
	while ((cand = hash_seq_search(&seq)) != NULL)
	{
		ids[m] = UUIDPGetDatum(&cand->customer_id);
		secs[m++] = Float8GetDatum(cand->min_interval_secs);
	}
	args[0] = PointerGetDatum(
	    construct_array(ids, m, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	args[1] = PointerGetDatum(construct_array(
	    secs, m, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	pd_execute_kept(
	    &due_plan,
	    "SELECT c FROM unnest($1, $2) AS u(c, s) WHERE s = 0 OR NOT EXISTS ("
	    "  SELECT FROM pre_delinquency.risk_scores r WHERE r.customer_id = "
	    "u.c "
	    "  AND r.scored_at > now() - make_interval(secs => u.s)) ORDER BY c",
	    2, types, args, NULL, true);

	due = palloc(sizeof(pg_uuid_t) * Max(SPI_processed, 1));
	as_of = palloc(sizeof(TimestampTz) * Max(SPI_processed, 1));
	m = SPI_processed;
	for (int r = 0; r < m; r++)
	{
		bool isnull;
		pg_uuid_t *id = DatumGetUUIDP(SPI_getbinval(
		    SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));

		due[r] = *id;
		as_of[r] =
		    ((Candidate *) hash_search(picked, id, HASH_FIND, NULL))->as_of;
	}
	stats->interventions += pd_assess_customers(due, as_of, m);
	stats->assessed += m;
}

/*
 * Per customer, the earliest event time among the batch's new events: the
 * outbox triggers read it through source_event_time(customer_id), so that
 * the relay measures each prediction and intervention from the first event
 * it reflects. NULL outside a batch (assess_customer from SQL: no latency).
 */
typedef struct SourceTime
{
	pg_uuid_t customer_id;
	TimestampTz earliest;
} SourceTime;

static HTAB *source_times = NULL;

static HTAB *
collect_source_times(IngestItem *items, int n)
{
	HTAB *times = pd_batch_hash("ingest source times", sizeof(pg_uuid_t),
	                            sizeof(SourceTime), n);

	for (int i = 0; i < n; i++)
	{
		const PdTxnEvent *e = &items[i].event;
		SourceTime *st;
		bool found;

		if (!items[i].inserted || !e->has_event_time)
			continue;
		st = hash_search(times, e->customer_id, HASH_ENTER, &found);
		if (!found || e->event_time < st->earliest)
			st->earliest = e->event_time;
	}
	return times;
}

bool
pd_source_event_time_of(const pg_uuid_t *customer_id, TimestampTz *t)
{
	SourceTime *st;

	if (source_times == NULL)
		return false;
	st = hash_search(source_times, customer_id, HASH_FIND, NULL);
	if (st == NULL)
		return false;
	*t = st->earliest;
	return true;
}

PG_FUNCTION_INFO_V1(pd_source_event_time);
Datum
pd_source_event_time(PG_FUNCTION_ARGS)
{
	TimestampTz t;

	if (!pd_source_event_time_of(PG_GETARG_UUID_P(0), &t))
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(t);
}

typedef struct ReassessStep
{
	IngestItem *items;
	int n;
	PdIngestStats *stats;
} ReassessStep;

static void
reassess_step(void *arg)
{
	ReassessStep *s = arg;

	reassess_customers(s->items, s->n, s->stats);
}

/*
 * Assessment must not hold back ingestion (no active model, a policy row a
 * DBA broke): run it in a subtransaction and on failure keep the rows and
 * warn.
 */
static void
try_reassess(IngestItem *items, int n, PdIngestStats *stats)
{
	PdIngestStats attempt = *stats;
	ReassessStep step = {items, n, &attempt};
	ErrorData *failure = run_in_subtransaction(reassess_step, &step);

	if (failure == NULL)
	{
		*stats = attempt;
		return;
	}
	ereport(WARNING,
	        (errmsg("transactions ingested, but re-assessing their customers "
	                "failed: %s",
	                failure->message),
	         failure->hint ? errhint("%s", failure->hint) : 0));
}

void
pd_ingest_apply(const PdIngestMessage *messages, int n, PdIngestStats *stats)
{
	IngestItem *items = palloc(sizeof(IngestItem) * Max(n, 1));

	SPI_connect();
	parse_items(items, messages, n);
	lock_known_customers(items, n);
	insert_valid_events(items, n);
	for (int i = 0; i < n; i++)
	{
		if (items[i].inserted)
			stats->inserted++;
		else if (items[i].ok)
			stats->duplicates++;
	}
	record_dead_letters(items, n, stats);
	source_times = collect_source_times(items, n);
	PG_TRY();
	{
		try_reassess(items, n, stats);
	}
	PG_FINALLY();
	{
		source_times = NULL;
	}
	PG_END_TRY();
	SPI_finish();
}

/* SQL: ingest_events(payloads text[], topic text) ------------------------- */

PG_FUNCTION_INFO_V1(pd_ingest_events);
Datum
pd_ingest_events(PG_FUNCTION_ARGS)
{
	ArrayType *payloads;
	Datum *elems;
	bool *nulls;
	int n;
	PdIngestMessage *messages;
	PdIngestStats stats = {0};
	char *topic;
	TupleDesc desc;
	Datum values[6];
	bool result_nulls[6] = {false};

	pd_require_argument(fcinfo, 0, "payloads");
	pd_require_argument(fcinfo, 1, "topic");
	payloads = PG_GETARG_ARRAYTYPE_P(0);
	topic = text_to_cstring(PG_GETARG_TEXT_PP(1));
	deconstruct_array(payloads, TEXTOID, -1, false, TYPALIGN_INT, &elems,
	                  &nulls, &n);
	messages = palloc0(sizeof(PdIngestMessage) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		messages[i].topic = topic;
		messages[i].partition = -1; /* not from Kafka */
		messages[i].offset = i;
		if (!nulls[i])
		{
			text *t = DatumGetTextPP(elems[i]);

			messages[i].payload = VARDATA_ANY(t);
			messages[i].payload_len = VARSIZE_ANY_EXHDR(t);
		}
	}
	pd_ingest_apply(messages, n, &stats);

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "ingest_events must return a composite type");
	values[0] = Int64GetDatum(stats.inserted);
	values[1] = Int64GetDatum(stats.duplicates);
	values[2] = Int64GetDatum(stats.dead_letters);
	values[3] = Int64GetDatum(stats.assessed);
	values[4] = Int64GetDatum(stats.interventions);
	values[5] = Int64GetDatum(n);
	PG_RETURN_DATUM(HeapTupleGetDatum(
	    heap_form_tuple(BlessTupleDesc(desc), values, result_nulls)));
}

/* SQL: replay_dead_letters(reason_like text) ----------------------------- */

/* Dead letters replayed per batch (and per SPI connection). */
#define REPLAY_BATCH 10000

/* One dead_letters row as the message it was. */
static void
read_dead_letter(HeapTuple t, TupleDesc d, PdIngestMessage *m)
{
	bool isnull;
	Datum key;
	Datum payload;

	m->dead_letter_id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
	m->topic = SPI_getvalue(t, d, 2);
	m->partition = DatumGetInt32(SPI_getbinval(t, d, 3, &isnull));
	m->offset = DatumGetInt64(SPI_getbinval(t, d, 4, &isnull));
	key = SPI_getbinval(t, d, 5, &isnull);
	if (!isnull)
	{
		bytea *b = DatumGetByteaPCopy(key);

		m->key = VARDATA(b);
		m->key_len = VARSIZE(b) - VARHDRSZ;
	}
	payload = SPI_getbinval(t, d, 6, &isnull);
	if (!isnull)
	{
		bytea *b = DatumGetByteaPCopy(payload);

		m->payload = VARDATA(b);
		m->payload_len = VARSIZE(b) - VARHDRSZ;
	}
}

PG_FUNCTION_INFO_V1(pd_replay_dead_letters);
Datum
pd_replay_dead_letters(PG_FUNCTION_ARGS)
{
	Oid types[3] = {TEXTOID, INT8OID, INT4OID};
	Datum args[3];
	char nulls[3] = {PG_ARGISNULL(0) ? 'n' : ' ', ' ', ' '};
	PdIngestStats stats = {0};
	int64 last = 0;

	args[0] = PG_ARGISNULL(0) ? 0 : PG_GETARG_DATUM(0);
	args[2] = Int32GetDatum(REPLAY_BATCH);

	/*
	 * In batches of dead letters, each with its own SPI connection, so that
	 * a table of millions (a producer that sent garbage for a day) is
	 * replayed in bounded memory; the ones that fail again keep their id,
	 * and the next batch starts after the last id of this one.
	 */
	for (;;)
	{
		PdIngestMessage *messages;
		uint64 n;
		PdAsOwner as;

		CHECK_FOR_INTERRUPTS();
		args[1] = Int64GetDatum(last);
		SPI_connect();
		/* the row locks too are the bookkeeping's (flush_dead_letters) */
		pd_begin_as_owner(pd_schema()->dead_letters, true, &as);
		SPI_execute_with_args(
		    "SELECT dead_letter_id, topic, kafka_partition, kafka_offset, "
		    "message_key, payload FROM pre_delinquency.dead_letters "
		    "WHERE ($1 IS NULL OR reason LIKE $1) AND dead_letter_id > $2 "
		    "ORDER BY dead_letter_id LIMIT $3 FOR UPDATE",
		    3, types, args, nulls, false, 0);
		pd_end_as_owner(&as);
		n = SPI_processed;
		messages = palloc0(sizeof(PdIngestMessage) * Max(n, 1));
		for (uint64 i = 0; i < n; i++)
			read_dead_letter(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
			                 &messages[i]);
		if (n > 0)
		{
			last = messages[n - 1].dead_letter_id;
			pd_ingest_apply(messages, (int) n, &stats);
		}
		SPI_finish();
		if (n < REPLAY_BATCH)
			break;
	}
	PG_RETURN_INT64(stats.replayed);
}
