/*
 * policy.c
 *    Assessment: score a customer now, record the risk score with its top
 *    features, and, if the intervention policy says so and the cooldown
 *    allows, record an intervention, all in the caller's transaction.
 *    assess_customer does one customer, assess_all the whole book in batches
 *    (features per customer, one batched prediction per batch), written
 *    while parallel workers compute the next customers' features.
 *
 * Risk levels and policies are rows (risk_levels, intervention_policies): a
 * DBA changes behaviour by updating them. Scoring itself is scoring.c's.
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "features.h"
#include "parallel_features.h"
#include "pd_util.h"
#include "pipeline.h"
#include "policy.h"
#include "risk_bulk.h"
#include "schema.h"
#include "scoring.h"
#include "shap_batch.h"

#define TOP_FEATURES     5
#define TOP_RISK_FACTORS 3
#define ASSESS_BATCH     1000
/*
 * assess_all scores and writes this many at a time as the features come:
 * the first batch waits for its features and the last is written after
 * the workers are done, with a core idle meanwhile, so they are small.
 */
#define SCORE_BATCH 256
#define ASSESS_PART 20000 /* assess_all's customers per parallel job */

int pd_intervention_cooldown = 7 * 24 * 3600; /* seconds */

/* One customer's assessment, before it is written. */
typedef struct Assessment
{
	pg_uuid_t customer_id;
	TimestampTz as_of;
	double features[PD_NUM_FEATURES];
	float contributions[PD_NUM_FEATURES + 1];
	float score;
} Assessment;

/* The risk levels, highest first, read once per statement. */
typedef struct RiskLevels
{
	int n;
	char *name[16];
	double min_score[16];
	int severity[16];
} RiskLevels;

static void
load_risk_levels(RiskLevels *levels)
{
	static SPIPlanPtr plan = NULL;

	pd_execute_kept(&plan,
	                "SELECT risk_level, min_score, severity FROM "
	                "pre_delinquency.risk_levels ORDER BY min_score DESC",
	                0, NULL, NULL, NULL, true);
	if (SPI_processed > lengthof(levels->name))
		ereport(
		    ERROR,
		    (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
		     errmsg("pre_delinquency.risk_levels has %d rows; at most %d are "
		            "supported",
		            (int) SPI_processed, (int) lengthof(levels->name)),
		     errhint(
		         "Merge risk levels; a handful is what interventions need.")));
	levels->n = SPI_processed;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple t = SPI_tuptable->vals[i];
		TupleDesc d = SPI_tuptable->tupdesc;
		bool isnull;

		levels->name[i] = SPI_getvalue(t, d, 1);
		levels->min_score[i] = DatumGetFloat8(SPI_getbinval(t, d, 2, &isnull));
		levels->severity[i] = DatumGetInt16(SPI_getbinval(t, d, 3, &isnull));
	}
	if (levels->n == 0 || levels->min_score[levels->n - 1] > 0)
		ereport(
		    ERROR,
		    (errcode(ERRCODE_DATA_EXCEPTION),
		     errmsg("pre_delinquency.risk_levels must have a level with "
		            "min_score 0"),
		     errhint("Restore the LOW level: INSERT INTO "
		             "pre_delinquency.risk_levels VALUES ('LOW', 0, 0).")));
}

static int
level_of(const RiskLevels *levels, double score)
{
	for (int i = 0; i < levels->n; i++)
		if (score >= levels->min_score[i])
			return i;
	return levels->n - 1;
}

/* Features sorted by |contribution|, largest first. */
static void
rank_features(const float *contributions, int *order)
{
	for (int i = 0; i < PD_NUM_FEATURES; i++)
		order[i] = i;
	for (int i = 1; i < PD_NUM_FEATURES; i++)
	{
		int f = order[i];
		int j = i;

		while (j > 0 &&
		       fabsf(contributions[order[j - 1]]) < fabsf(contributions[f]))
		{
			order[j] = order[j - 1];
			j--;
		}
		order[j] = f;
	}
}

static void
push_json_number(JsonbParseState **state, double x)
{
	JsonbValue v;

	v.type = jbvNumeric;
	v.val.numeric = DatumGetNumeric(
	    DirectFunctionCall1(float8_numeric, Float8GetDatum(x)));
	pushJsonbValue(state, WJB_VALUE, &v);
}

/*
 * [{feature, value, contribution}] of the TOP_FEATURES largest
 * |contribution|, built as jsonb directly (parsing text cost a tenth of
 * assess_all).
 */
static Datum
top_features_json(const Assessment *a)
{
	int order[PD_NUM_FEATURES];
	JsonbParseState *state = NULL;
	JsonbValue *result;
	MemoryContext caller = pd_jsonb_scratch_begin();

	rank_features(a->contributions, order);
	pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < TOP_FEATURES; i++)
	{
		/* keys in jsonb's order (shorter first): nothing left to sort */
		pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
		pd_jsonb_push_key(&state, "value");
		push_json_number(&state, a->features[order[i]]);
		pd_jsonb_push_string(&state, "feature",
		                     pd_feature_name_list[order[i]]);
		pd_jsonb_push_key(&state, "contribution");
		push_json_number(&state, (double) a->contributions[order[i]]);
		pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	}
	result = pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	return pd_jsonb_scratch_finish(result, caller);
}

/*
 * The features that push the risk up most, for the intervention, as one
 * comma-separated text (feature names have no commas); SQL splits it.
 */
static Datum
top_risk_factors(const Assessment *a)
{
	int order[PD_NUM_FEATURES];
	StringInfoData names;
	int n = 0;

	rank_features(a->contributions, order);
	initStringInfo(&names);
	for (int i = 0; i < PD_NUM_FEATURES && n < TOP_RISK_FACTORS; i++)
		if (a->contributions[order[i]] > 0)
			appendStringInfo(&names, "%s%s", n++ ? "," : "",
			                 pd_feature_name_list[order[i]]);
	return CStringGetTextDatum(names.data);
}

/*
 * One prediction and the exact SHAP contributions of the batch's rows,
 * whose features are computed (grouped, see shap_batch.c). Reads no table.
 */
static void
predict_batch(Assessment *batch, int n, BoosterHandle booster)
{
	float *rows = palloc(sizeof(float) * n * PD_NUM_FEATURES);
	float *scores = palloc(sizeof(float) * n);
	float *contributions = palloc(sizeof(float) * n * (PD_NUM_FEATURES + 1));

	for (int i = 0; i < n; i++)
		pd_features_to_row(batch[i].features, rows + i * PD_NUM_FEATURES);
	pd_predict(booster, rows, n, scores);
	pd_batch_contributions(booster, pd_booster_generation(), rows, n,
	                       contributions);
	for (int i = 0; i < n; i++)
	{
		batch[i].score = scores[i];
		memcpy(batch[i].contributions,
		       contributions + i * (PD_NUM_FEATURES + 1),
		       sizeof(batch[i].contributions));
	}
	pfree(rows);
	pfree(scores);
	pfree(contributions);
}

/* Scores a batch of customers, each as of its own time. */
static void
score_batch(Assessment *batch, int n, int *model_id)
{
	BoosterHandle booster = pd_active_booster(model_id);
	PdFeatureReader *reader = pd_feature_reader_open();

	for (int i = 0; i < n; i++)
		pd_feature_reader_compute(reader, &batch[i].customer_id,
		                          batch[i].as_of, batch[i].features);
	pd_feature_reader_close(reader);
	predict_batch(batch, n, booster);
}

/* The batch as risk_bulk.c's rows; 'tops' their top_features. */
static PdRiskRow *
risk_rows(const Assessment *batch, int n, const RiskLevels *levels,
          const Datum *tops)
{
	PdRiskRow *rows = palloc(sizeof(PdRiskRow) * n);

	for (int i = 0; i < n; i++)
	{
		rows[i].customer_id = &batch[i].customer_id;
		rows[i].as_of = batch[i].as_of;
		rows[i].score = (double) batch[i].score;
		rows[i].level = levels->name[level_of(levels, batch[i].score)];
		rows[i].top_features = tops[i];
	}
	return rows;
}

/*
 * Writes the batch's risk_scores rows (one INSERT for the batch); with
 * 'returning', SPI_tuptable holds them as the statement returned them.
 */
static void
record_risk_scores(const Assessment *batch, int n, const RiskLevels *levels,
                   int model_id, bool returning)
{
	Oid types[6] = {UUIDARRAYOID,  FLOAT8ARRAYOID, TEXTARRAYOID,
	                JSONBARRAYOID, INT4OID,        TIMESTAMPTZARRAYOID};
	Datum args[6];
	Datum *times = palloc(sizeof(Datum) * n);
	Datum *ids = palloc(sizeof(Datum) * n);
	Datum *scores = palloc(sizeof(Datum) * n);
	Datum *level_names = palloc(sizeof(Datum) * n);
	Datum *tops = palloc(sizeof(Datum) * n);
	static SPIPlanPtr plan = NULL;
	static SPIPlanPtr plan_returning = NULL;

	for (int i = 0; i < n; i++)
	{
		ids[i] = UUIDPGetDatum(&batch[i].customer_id);
		scores[i] = Float8GetDatum((double) batch[i].score);
		level_names[i] = CStringGetTextDatum(
		    levels->name[level_of(levels, batch[i].score)]);
		tops[i] = top_features_json(&batch[i]);
		times[i] = TimestampTzGetDatum(batch[i].as_of);
	}
	args[0] = PointerGetDatum(
	    construct_array(ids, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	args[1] = PointerGetDatum(construct_array(
	    scores, n, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[2] = PointerGetDatum(
	    construct_array(level_names, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[3] = PointerGetDatum(
	    construct_array(tops, n, JSONBOID, -1, false, TYPALIGN_INT));
	args[4] = Int32GetDatum(model_id);
	args[5] = PointerGetDatum(construct_array(
	    times, n, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));

	if (!returning && pd_risk_bulk_applicable())
	{
		pd_risk_bulk_insert(risk_rows(batch, n, levels, tops), n, model_id);
		return;
	}

#define INSERT_RISK_SCORES                                                    \
	"INSERT INTO pre_delinquency.risk_scores "                                \
	"(customer_id, as_of, risk_score, risk_level, model_id, top_features) "   \
	"SELECT c, a, s, l, $5, t FROM unnest($1, $2, $3, $4, $6) "               \
	"AS u(c, s, l, t, a)"
	if (pd_execute_kept(returning ? &plan_returning : &plan,
	                    returning ? INSERT_RISK_SCORES " RETURNING *"
	                              : INSERT_RISK_SCORES,
	                    6, types, args, NULL, false) !=
	    (returning ? SPI_OK_INSERT_RETURNING : SPI_OK_INSERT))
		elog(ERROR, "could not record risk scores");
}

/*
 * The customers an intervention may be created for (their level's severity
 * above 0), collected in 'cxt' before they are inserted: assess_all
 * collects the whole book's and inserts them at the end, so its cooldown
 * locks are held only for that last step.
 */
typedef struct Candidates
{
	MemoryContext cxt;
	int n;
	int cap;
	Datum *ids;     /* uuid */
	Datum *scores;  /* float8 */
	Datum *levels;  /* text */
	Datum *factors; /* text: the top risk factors, comma-separated */
} Candidates;

static void
init_candidates(Candidates *c, MemoryContext cxt)
{
	c->cxt = cxt;
	c->n = 0;
	c->cap = 64;
	c->ids = MemoryContextAlloc(cxt, sizeof(Datum) * c->cap);
	c->scores = MemoryContextAlloc(cxt, sizeof(Datum) * c->cap);
	c->levels = MemoryContextAlloc(cxt, sizeof(Datum) * c->cap);
	c->factors = MemoryContextAlloc(cxt, sizeof(Datum) * c->cap);
}

static void
add_candidates(Candidates *c, const Assessment *batch, int n,
               const RiskLevels *levels)
{
	MemoryContext caller = MemoryContextSwitchTo(c->cxt);

	for (int i = 0; i < n; i++)
	{
		int level = level_of(levels, batch[i].score);

		if (levels->severity[level] == 0)
			continue; /* the lowest level never triggers anything */
		if (c->n == c->cap)
		{
			c->cap *= 2;
			c->ids = repalloc(c->ids, sizeof(Datum) * c->cap);
			c->scores = repalloc(c->scores, sizeof(Datum) * c->cap);
			c->levels = repalloc(c->levels, sizeof(Datum) * c->cap);
			c->factors = repalloc(c->factors, sizeof(Datum) * c->cap);
		}
		c->ids[c->n] =
		    UUIDPGetDatum(memcpy(palloc(sizeof(pg_uuid_t)),
		                         &batch[i].customer_id, sizeof(pg_uuid_t)));
		c->scores[c->n] = Float8GetDatum((double) batch[i].score);
		c->levels[c->n] = CStringGetTextDatum(levels->name[level]);
		c->factors[c->n] = top_risk_factors(&batch[i]);
		c->n++;
	}
	MemoryContextSwitchTo(caller);
}

/*
 * The cooldown holds only if two transactions cannot both find no recent
 * intervention for a customer and both create one (an ingest batch and a
 * call from SQL, or assess_all). So the customers' rows are locked first,
 * in one order, FOR NO KEY UPDATE: the weakest lock two lockers wait on
 * each other for, and one that does not hold back the foreign-key checks of
 * inserted transactions (FOR KEY SHARE). The check runs after, in a
 * statement of its own: under READ COMMITTED it then sees what the
 * transaction it waited for committed.
 */
static void
lock_for_cooldown(Datum customer_ids)
{
	static SPIPlanPtr plan = NULL;
	PdAsOwner as;
	int status;

	/*
	 * As the table's owner: a row lock wants UPDATE on customers, which
	 * neither the workers' role nor an assessing role otherwise needs.
	 */
	pd_begin_as_owner(pd_schema()->customers, true, &as);
	status =
	    pd_execute_kept(&plan,
	                    "SELECT FROM pre_delinquency.customers "
	                    "WHERE customer_id = ANY($1) "
	                    "ORDER BY customer_id FOR NO KEY UPDATE",
	                    1, (Oid[]){UUIDARRAYOID}, &customer_ids, NULL, false);
	pd_end_as_owner(&as);
	if (status != SPI_OK_SELECT)
		elog(ERROR, "could not lock the customers for the cooldown");
}

/*
 * An intervention for candidates [from, from + m) whose level has an
 * enabled policy, unless one of the same or a higher level was created
 * within the cooldown (an escalation is never held back). Set-based: one
 * statement. Returns how many were created.
 */
static uint64
insert_interventions(const Candidates *c, int from, int m)
{
	Oid types[5] = {UUIDARRAYOID, FLOAT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
	                INT4OID};
	Datum args[5];
	static SPIPlanPtr plan = NULL;

	if (m == 0)
		return 0;
	args[0] = PointerGetDatum(construct_array(c->ids + from, m, UUIDOID,
	                                          UUID_LEN, false, TYPALIGN_CHAR));
	args[1] = PointerGetDatum(construct_array(
	    c->scores + from, m, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[2] = PointerGetDatum(construct_array(c->levels + from, m, TEXTOID, -1,
	                                          false, TYPALIGN_INT));
	args[3] = PointerGetDatum(construct_array(c->factors + from, m, TEXTOID,
	                                          -1, false, TYPALIGN_INT));
	args[4] = Int32GetDatum(pd_intervention_cooldown);

	lock_for_cooldown(args[0]);
	if (pd_execute_kept(
	        &plan,
	        "INSERT INTO pre_delinquency.interventions AS i "
	        "(intervention_id, customer_id, created_at, risk_score, "
	        "risk_level, "
	        " intervention_type, channel, priority, message, "
	        "top_risk_factors) "
	        "SELECT 'INT_' || u.c || '_' || to_char(now() AT TIME ZONE 'UTC', "
	        "'YYYYMMDDHH24MISS'), "
	        "       u.c, now(), u.s, u.l, p.intervention_type, p.channel, "
	        "p.priority, "
	        "       replace(replace(replace(p.message_template, "
	        "         '{risk_score}', to_char(u.s, 'FM0.000')), "
	        "'{risk_level}', u.l), "
	        "         '{top_risk_factors}', replace(u.f, ',', ', ')), "
	        "       string_to_array(nullif(u.f, ''), ',') "
	        "FROM unnest($1, $2, $3, $4) AS u(c, s, l, f) "
	        "JOIN pre_delinquency.intervention_policies p ON p.risk_level = "
	        "u.l AND p.enabled "
	        "JOIN pre_delinquency.risk_levels lv ON lv.risk_level = u.l "
	        "WHERE NOT EXISTS ("
	        "  SELECT FROM pre_delinquency.interventions prior "
	        "  JOIN pre_delinquency.risk_levels pl ON pl.risk_level = "
	        "prior.risk_level "
	        "  WHERE prior.customer_id = u.c "
	        "    AND prior.created_at > now() - make_interval(secs => $5) "
	        "    AND pl.severity >= lv.severity) "
	        "ON CONFLICT (intervention_id) DO NOTHING",
	        5, types, args, NULL, false) != SPI_OK_INSERT)
		elog(ERROR, "could not record interventions");
	return SPI_processed;
}

/* The interventions of one batch, at once. */
static uint64
record_interventions(const Assessment *batch, int n, const RiskLevels *levels)
{
	Candidates c;

	init_candidates(&c, CurrentMemoryContext);
	add_candidates(&c, batch, n, levels);
	return insert_interventions(&c, 0, c.n);
}

/* SQL: assess_customer(customer_id) -------------------------------------- */

PG_FUNCTION_INFO_V1(pd_assess_customer);
Datum
pd_assess_customer(PG_FUNCTION_ARGS)
{
	Assessment a;
	RiskLevels levels;
	int model_id;
	HeapTuple row;
	TupleDesc desc;

	pd_require_argument(fcinfo, 0, "customer_id");
	memcpy(&a.customer_id, PG_GETARG_UUID_P(0), sizeof(pg_uuid_t));

	a.as_of = GetCurrentTransactionStartTimestamp();
	SPI_connect();
	load_risk_levels(&levels);
	score_batch(&a, 1, &model_id);
	record_risk_scores(&a, 1, &levels, model_id, true);
	row = SPI_copytuple(SPI_tuptable->vals[0]);
	record_interventions(&a, 1, &levels);
	SPI_finish();

	/* RETURNING * has the columns of risk_scores, the declared result */
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "assess_customer must return a composite type");
	PG_RETURN_DATUM(heap_copy_tuple_as_datum(row, BlessTupleDesc(desc)));
}

/* SQL: assess_all(as_of) ------------------------------------------------- */

/* The next customers of the book after 'last', at most 'limit'; how many. */
static int
next_customers(Assessment *part, int limit, pg_uuid_t *last, TimestampTz as_of)
{
	Oid types[2] = {UUIDOID, INT4OID};
	Datum args[2] = {UUIDPGetDatum(last), Int32GetDatum(limit)};
	int n;

	SPI_execute_with_args("SELECT customer_id FROM pre_delinquency.customers "
	                      "WHERE customer_id > $1 ORDER BY customer_id "
	                      "LIMIT $2",
	                      2, types, args, NULL, true, 0);
	n = SPI_processed;
	for (int i = 0; i < n; i++)
	{
		bool isnull;

		memcpy(&part[i].customer_id,
		       DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[i],
		                                   SPI_tuptable->tupdesc, 1, &isnull)),
		       sizeof(pg_uuid_t));
		part[i].as_of = as_of;
	}
	if (n > 0)
		*last = part[n - 1].customer_id;
	return n;
}

/*
 * Whether the rows may be written while parallel workers run: by the bulk
 * path (no trigger, no SPI), and short enough never to be toasted out of
 * line (that needs an OID, which parallel mode forbids). Every column is
 * of fixed size but the level name, the topic and top_features (a few
 * hundred bytes).
 */
static bool
writable_in_parallel_mode(const RiskLevels *levels)
{
	size_t longest = 0;

	for (int i = 0; i < levels->n; i++)
		longest = Max(longest, strlen(levels->name[i]));
	return longest < 256 &&
	       (pd_predictions_topic == NULL ||
	        strlen(pd_predictions_topic) < 256) &&
	       pd_risk_bulk_applicable();
}

/* Writes part[0..n)'s risk_scores rows and events by the bulk path. */
static void
write_in_bulk(const Assessment *part, int n, const RiskLevels *levels,
              int model_id, const PdRiskIds *ids)
{
	Datum *tops = palloc(sizeof(Datum) * n);

	for (int i = 0; i < n; i++)
		tops[i] = top_features_json(&part[i]);
	pd_risk_bulk_write(risk_rows(part, n, levels, tops), n, model_id, ids);
}

/*
 * Scores part[0..n) in batches as the features come (parallel workers
 * compute them ahead); with 'ids', writes each batch's rows at once, while
 * the workers go on. Each batch's allocations go when it is done.
 */
static void
score_part(Assessment *part, int n, PdFeatureJob *job, BoosterHandle booster,
           const RiskLevels *levels, int model_id, const PdRiskIds *ids)
{
	MemoryContext batch_cxt = AllocSetContextCreate(
	    CurrentMemoryContext, "assess_all batch", ALLOCSET_DEFAULT_SIZES);
	MemoryContext outer = MemoryContextSwitchTo(batch_cxt);

	for (int start = 0; start < n; start += SCORE_BATCH)
	{
		int m = Min(SCORE_BATCH, n - start);
		const double *features = pd_features_wait(job, start + m);

		CHECK_FOR_INTERRUPTS();
		for (int i = start; i < start + m; i++)
			memcpy(part[i].features, features + i * PD_NUM_FEATURES,
			       sizeof(part[i].features));
		predict_batch(part + start, m, booster);
		if (ids != NULL)
		{
			PdRiskIds slice = {ids->score_ids + start,
			                   ids->outbox_ids + start};

			write_in_bulk(part + start, m, levels, model_id, &slice);
		}
		MemoryContextReset(batch_cxt);
	}
	MemoryContextSwitchTo(outer);
	MemoryContextDelete(batch_cxt);
}

/*
 * Assesses part[0..n) of the book: its features computed by this backend
 * and parallel workers, scored as they come and, when the bulk path
 * applies, written as they are scored, so the workers compute the next
 * customers' features while this backend writes (as CREATE TABLE AS
 * writes while workers scan: the workers read no table written here). Row
 * locks, nextval, new command ids and SPI writes are not allowed meanwhile:
 * the foreign key locks and identity values are taken before
 * (pd_risk_bulk_reserve). The customers an intervention may be created for
 * go to 'candidates', for the end of assess_all.
 */
static void
assess_part(Assessment *part, int n, const RiskLevels *levels,
            Candidates *candidates)
{
	int model_id;
	BoosterHandle booster = pd_active_booster(&model_id);
	bool write_now = writable_in_parallel_mode(levels);
	pg_uuid_t *customers = palloc(sizeof(pg_uuid_t) * n);
	PdRiskIds ids;
	PdFeatureJob *job;

	for (int i = 0; i < n; i++)
		customers[i] = part[i].customer_id;
	if (write_now)
		pd_risk_bulk_reserve(customers, n, model_id, &ids);
	job = pd_features_start(customers, part[0].as_of, n);
	score_part(part, n, job, booster, levels, model_id,
	           write_now ? &ids : NULL);
	pd_features_finish(job);

	if (write_now)
		CommandCounterIncrement();
	for (int start = 0; start < n && !write_now; start += ASSESS_PART / 4)
		record_risk_scores(part + start, Min(ASSESS_PART / 4, n - start),
		                   levels, model_id, false);
	add_candidates(candidates, part, n, levels);
}

PG_FUNCTION_INFO_V1(pd_assess_all);
Datum
pd_assess_all(PG_FUNCTION_ARGS)
{
	TimestampTz as_of;
	RiskLevels levels;
	MemoryContext caller = CurrentMemoryContext;
	Assessment *part;
	pg_uuid_t last = {{0}};
	int64 total;
	int64 done = 0;
	int64 triggered = 0;
	Candidates candidates;

	pd_require_argument(fcinfo, 0, "as_of");
	as_of = PG_GETARG_TIMESTAMPTZ(0);
	part = palloc(sizeof(Assessment) * ASSESS_PART);
	init_candidates(&candidates, caller);

	/* the risk levels once per statement, kept past this connection */
	SPI_connect();
	load_risk_levels(&levels);
	for (int i = 0; i < levels.n; i++)
		levels.name[i] = MemoryContextStrdup(caller, levels.name[i]);
	SPI_execute("SELECT count(*) FROM pre_delinquency.customers", true, 1);
	total = DatumGetInt64(SPI_getbinval(
	    SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &(bool){false}));
	SPI_finish();

	/*
	 * One SPI connection per part: after every SPI call the current memory
	 * context is the connection's, so a part's allocations (the batches'
	 * aside) end up there, and only SPI_finish frees them. With one
	 * connection for the whole call, a book of a million customers would
	 * keep them all until the end.
	 */
	for (;;)
	{
		int n;

		CHECK_FOR_INTERRUPTS();
		SPI_connect();
		n = next_customers(part, ASSESS_PART, &last, as_of);
		if (n > 0)
			assess_part(part, n, &levels, &candidates);
		SPI_finish();
		if (n == 0)
			break;
		done += n;
		if (total > ASSESS_PART)
			ereport(NOTICE, (errmsg("assess_all: %lld of %lld customers",
			                        (long long) done, (long long) total)));
	}

	/*
	 * The interventions last: they lock their customers until this
	 * transaction ends (see lock_for_cooldown), and an ingest batch that
	 * wants one of them waits, so not for the whole run.
	 */
	SPI_connect();
	for (int start = 0; start < candidates.n; start += ASSESS_PART / 4)
		triggered += insert_interventions(
		    &candidates, start, Min(ASSESS_PART / 4, candidates.n - start));
	SPI_finish();
	if (total > ASSESS_PART)
		ereport(NOTICE, (errmsg("assess_all: %lld interventions",
		                        (long long) triggered)));
	PG_RETURN_INT64(done);
}

int64
pd_assess_customers(const pg_uuid_t *ids, const TimestampTz *as_of, int n)
{
	Assessment *batch;
	RiskLevels levels;
	int model_id;
	int64 triggered = 0;

	if (n == 0)
		return 0;
	batch = palloc(sizeof(Assessment) * Min(n, ASSESS_BATCH));
	SPI_connect();
	load_risk_levels(&levels);
	for (int start = 0; start < n; start += ASSESS_BATCH)
	{
		int m = Min(ASSESS_BATCH, n - start);

		for (int i = 0; i < m; i++)
		{
			batch[i].customer_id = ids[start + i];
			batch[i].as_of = as_of[start + i];
		}
		score_batch(batch, m, &model_id);
		record_risk_scores(batch, m, &levels, model_id, false);
		triggered += record_interventions(batch, m, &levels);
	}
	SPI_finish();
	return triggered;
}
