/*
 * training.c
 *    train_model and evaluate_model: labelled observations sampled from the
 *    bank's history, an XGBoost booster trained on them through the C API,
 *    and its metrics on customers it has not seen.
 *
 * An observation is one customer at one as_of: the 31 features
 * (features.c) and the label (payments.c), left out when the label is
 * undefined. as_of runs through midnights (UTC) every SAMPLE_EVERY_DAYS days
 * from HISTORY_DAYS after the data's first transaction, shifted by a seeded
 * per-customer offset so that observations fall on every day of the month;
 * it stops LABEL_GAP_DAYS before the data (or train_end) ends, because the
 * label reads the final record of the payments due in the 30 days after
 * as_of. train_model splits by customer (a seeded hash, 80/20), trains on
 * one part and measures on the other; evaluate_model measures a stored model
 * on every customer. The arithmetic of the metrics is metrics.c's; loading a
 * stored booster and predicting are scoring.c's. Stores a model, never
 * activates it (activate_model does).
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "features.h"
#include "metrics.h"
#include "payments.h"
#include "pd_util.h"
#include "scoring.h"
#include "xgb_util.h"

#define HISTORY_DAYS      180 /* features look 6 months back */
#define LABEL_GAP_DAYS    35  /* the label looks 30 days ahead, +5 late */
#define SAMPLE_EVERY_DAYS 28
#define TEST_PERCENT      20
#define MAX_ROUNDS        10000
#define EVAL_SAMPLING     0 /* evaluate_model's offsets: one for every model */
#define CUSTOMER_BATCH    1000
#define SALT_OFFSET       UINT64CONST(0x6F66667365742121) /* "offset!!" */
#define SALT_SPLIT        UINT64CONST(0x73706C6974212121) /* "split!!!" */

#define DAYS(n) (PD_USECS_PER_DAY * (n))

/* ------------------------------------------------------------------------
 * Observations
 * ------------------------------------------------------------------------
 */

/* Which as_of times are sampled, and what we learnt about the data. */
typedef struct Sampling
{
	const char *caller; /* for messages */
	int32 offset_seed;  /* per-customer offsets */
	bool split;         /* mark TEST_PERCENT of customers as test */
	int32 split_seed;
	TimestampTz from, to; /* as_of range asked for, inclusive */

	/* filled in by read_data_window() */
	int64 customers;
	TimestampTz data_start, data_end; /* first and last transaction */
	TimestampTz first_as_of, last_as_of;
} Sampling;

typedef struct Observations
{
	int64 n, cap;
	float *x; /* n rows of PD_NUM_FEATURES, row-major */
	float *y;
	bool *test;
	int64 customers, test_customers; /* customers with an observation */
	MemoryContext cxt;
} Observations;

/* seeded hash of a customer id */
static uint64
customer_hash(const pg_uuid_t *id, int32 seed, uint64 salt)
{
	return hash_bytes_extended(id->data, UUID_LEN,
	                           ((uint64) (uint32) seed << 32) ^ salt);
}

/*
 * The data's first and last transaction and the as_of range they allow,
 * through each customer's (customer_id, txn_time) index range.
 */
static void
read_data_window(Sampling *s)
{
	bool isnull;

	SPI_execute("SELECT count(*), min(f), max(l) FROM (SELECT "
	            "(SELECT min(txn_time) FROM pre_delinquency.transactions t "
	            " WHERE t.customer_id = c.customer_id) AS f, "
	            "(SELECT max(txn_time) FROM pre_delinquency.transactions t "
	            " WHERE t.customer_id = c.customer_id) AS l "
	            "FROM pre_delinquency.customers c) s",
	            true, 1);
	s->customers = DatumGetInt64(SPI_getbinval(
	    SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	s->data_start = DatumGetTimestampTz(SPI_getbinval(
	    SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	if (isnull)
		ereport(ERROR,
		        (errcode(ERRCODE_NO_DATA_FOUND),
		         errmsg("%s: there are no transactions", s->caller),
		         errhint("Load customers, transactions and payments into "
		                 "schema pre_delinquency, or generate a bank with "
		                 "generate_synthetic().")));
	s->data_end = DatumGetTimestampTz(SPI_getbinval(
	    SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));

	/* midnights: HISTORY_DAYS after the first day of data ... */
	s->first_as_of =
	    pd_date_start(pd_utc_date(s->data_start)) + DAYS(HISTORY_DAYS);
	/* ... to LABEL_GAP_DAYS before the data ends */
	s->last_as_of = s->data_end - DAYS(LABEL_GAP_DAYS);
	if (!TIMESTAMP_IS_NOBEGIN(s->from))
		s->first_as_of = Max(s->first_as_of, s->from);
	if (!TIMESTAMP_IS_NOEND(s->to))
		s->last_as_of = Min(s->last_as_of, s->to);
}

static void
add_observation(Observations *o, const double *features, int label, bool test)
{
	if (o->n == o->cap)
	{
		int64 cap = Max(1024, 2 * o->cap);

		if (o->x == NULL)
		{
			o->x = MemoryContextAllocHuge(o->cxt, cap * PD_NUM_FEATURES *
			                                          sizeof(float));
			o->y = MemoryContextAllocHuge(o->cxt, cap * sizeof(float));
			o->test = MemoryContextAllocHuge(o->cxt, cap * sizeof(bool));
		}
		else
		{
			o->x = repalloc_huge(o->x, cap * PD_NUM_FEATURES * sizeof(float));
			o->y = repalloc_huge(o->y, cap * sizeof(float));
			o->test = repalloc_huge(o->test, cap * sizeof(bool));
		}
		o->cap = cap;
	}
	pd_features_to_row(features, o->x + o->n * PD_NUM_FEATURES);
	o->y[o->n] = (float) label;
	o->test[o->n] = test;
	o->n++;
}

/* One customer's observations; returns how many. */
static int
observe_customer(const Sampling *s, Observations *o, const pg_uuid_t *id,
                 TimestampTz opened_at, bool test)
{
	int64 offset =
	    customer_hash(id, s->offset_seed, SALT_OFFSET) % SAMPLE_EVERY_DAYS;
	TimestampTz base = pd_date_start(pd_utc_date(s->data_start)) +
	                   DAYS(HISTORY_DAYS) + DAYS(offset);
	TimestampTz t = base;
	/*
	 * Not before the account opened: a customer's grid starts there, so one
	 * stray transaction dated centuries back (the table takes any finite
	 * time) does not make every customer step through centuries of dates.
	 */
	TimestampTz start = Max(s->first_as_of, opened_at);
	int added = 0;

	if (start > s->last_as_of)
		return 0;
	/*
	 * The first grid point at or after start, in int128: a span of the
	 * whole timestamp range overflows int64.
	 */
	if (start > base)
		t = base + (TimestampTz) (DAYS(SAMPLE_EVERY_DAYS) *
		                          (((__int128) start - base +
		                            DAYS(SAMPLE_EVERY_DAYS) - 1) /
		                           DAYS(SAMPLE_EVERY_DAYS)));
	for (; t <= s->last_as_of; t += DAYS(SAMPLE_EVERY_DAYS))
	{
		double features[PD_NUM_FEATURES];
		int label;

		label = pd_compute_label(id, t);
		if (label < 0)
			continue;
		pd_compute_features(id, t, features);
		add_observation(o, features, label, test);
		added++;
	}
	return added;
}

/*
 * Every customer's observations, customers in customer_id order (so the
 * matrices, and the booster, depend only on the data and the seed).
 * Runs inside SPI.
 */
static void
collect_observations(Sampling *s, Observations *o)
{
	MemoryContext batch_cxt =
	    AllocSetContextCreate(CurrentMemoryContext, "pre_delinquency sample",
	                          ALLOCSET_DEFAULT_SIZES);
	TimestampTz started = GetCurrentTimestamp();
	SPIPlanPtr plan;
	Portal cursor;
	int64 done = 0;
	int64 next_report = s->customers / 10;

	plan = SPI_prepare("SELECT customer_id, opened_at "
	                   "FROM pre_delinquency.customers ORDER BY customer_id",
	                   0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s",
		     SPI_result_code_string(SPI_result));
	cursor = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	for (;;)
	{
		SPI_cursor_fetch(cursor, true, CUSTOMER_BATCH);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple row = SPI_tuptable->vals[i];
			bool isnull;
			pg_uuid_t *id = DatumGetUUIDP(
			    SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull));
			TimestampTz opened = DatumGetTimestampTz(
			    SPI_getbinval(row, SPI_tuptable->tupdesc, 2, &isnull));
			bool test = s->split &&
			            customer_hash(id, s->split_seed, SALT_SPLIT) % 100 <
			                TEST_PERCENT;
			MemoryContext old = MemoryContextSwitchTo(batch_cxt);

			CHECK_FOR_INTERRUPTS();
			if (observe_customer(s, o, id, opened, test) > 0)
			{
				o->customers++;
				o->test_customers += test;
			}
			MemoryContextSwitchTo(old);
			MemoryContextReset(batch_cxt);
		}
		done += SPI_processed;
		SPI_freetuptable(SPI_tuptable);
		if (s->customers >= CUSTOMER_BATCH && done >= next_report)
		{
			ereport(
			    NOTICE,
			    (errmsg("%s: observations of %lld of %lld customers "
			            "(%d%%, %.1f s)",
			            s->caller, (long long) done, (long long) s->customers,
			            (int) (100 * done / Max(s->customers, 1)),
			            (GetCurrentTimestamp() - started) / 1e6)));
			next_report = done + s->customers / 10;
		}
	}
	SPI_cursor_close(cursor);
	MemoryContextDelete(batch_cxt);
}

/* The rows of one part (test or not), copied out contiguously. */
static int64
select_rows(const Observations *o, bool test, float **x, float **y)
{
	int64 n = 0;

	*x = palloc_extended(Max(o->n, 1) * PD_NUM_FEATURES * sizeof(float),
	                     MCXT_ALLOC_HUGE);
	*y = palloc_extended(Max(o->n, 1) * sizeof(float), MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < o->n; i++)
	{
		if (o->test[i] != test)
			continue;
		memcpy(*x + n * PD_NUM_FEATURES, o->x + i * PD_NUM_FEATURES,
		       PD_NUM_FEATURES * sizeof(float));
		(*y)[n++] = o->y[i];
	}
	return n;
}

static int
feature_index(const char *name)
{
	for (int i = 0; i < PD_NUM_FEATURES; i++)
		if (strcmp(pd_feature_name_list[i], name) == 0)
			return i;
	elog(ERROR, "no feature named \"%s\"", name);
}

static int64
count_positives(const float *y, int64 n)
{
	int64 positives = 0;

	for (int64 i = 0; i < n; i++)
		positives += y[i] > 0.5f;
	return positives;
}

static void
append_sampling_json(StringInfo buf, const Sampling *s)
{
	appendStringInfoString(buf, "\"data_start\": ");
	pd_append_json_time(buf, s->data_start);
	appendStringInfoString(buf, ", \"data_end\": ");
	pd_append_json_time(buf, s->data_end);
	appendStringInfoString(buf, ", \"as_of_from\": ");
	pd_append_json_time(buf, s->first_as_of);
	appendStringInfoString(buf, ", \"as_of_to\": ");
	pd_append_json_time(buf, s->last_as_of);
	appendStringInfo(buf,
	                 ", \"sampling\": {\"every_days\": %d, \"history_days\": "
	                 "%d, \"label_gap_days\": %d, \"offset_seed\": %d, "
	                 "\"time_of_day\": \"00:00 UTC\"}",
	                 SAMPLE_EVERY_DAYS, HISTORY_DAYS, LABEL_GAP_DAYS,
	                 s->offset_seed);
}

static Datum
json_to_jsonb(StringInfo buf)
{
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf->data));
}

/* ------------------------------------------------------------------------
 * Parameters
 * ------------------------------------------------------------------------
 */

typedef enum XgbValueKind
{
	PARAM_STRING,
	PARAM_NUMBER,
	PARAM_BOOL
} XgbValueKind;

typedef struct XgbParam
{
	char *key;
	char *value; /* as XGBoostSetParam takes it */
	XgbValueKind kind;
} XgbParam;

typedef struct XgbParams
{
	XgbParam items[64];
	int n;
	int rounds;           /* num_boost_round, not an XGBoost parameter */
	StringInfoData given; /* the keys the caller passed, for messages */
} XgbParams;

static void
set_param(XgbParams *p, const char *key, const char *value, XgbValueKind kind)
{
	int i = 0;

	while (i < p->n && strcmp(p->items[i].key, key) != 0)
		i++;
	if (i == p->n)
	{
		if (p->n == lengthof(p->items))
			ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			                errmsg("too many training parameters"),
			                errhint("Pass at most %d keys in params.",
			                        (int) lengthof(p->items) / 2)));
		p->items[p->n++].key = pstrdup(key);
	}
	p->items[i].value = pstrdup(value);
	p->items[i].kind = kind;
}

static const char *
get_param(const XgbParams *p, const char *key)
{
	for (int i = 0; i < p->n; i++)
		if (strcmp(p->items[i].key, key) == 0)
			return p->items[i].value;
	return NULL;
}

/*
 * Monotone constraints: where more of a feature can only mean more stress
 * (a later or smaller salary, later or shorter payments, failed debits,
 * days below the minimum, the hand-written stress summaries), the score
 * may not fall as it grows. Features whose direction depends on the
 * customer (spending shifts, balance swings, activity) stay free. This keeps
 * the model from learning a bank's quirks against the grain of behaviour.
 */
static const struct
{
	const char *feature;
	int direction;
} monotone[] = {
    {"salary_delay_days", 1},          {"salary_amount_deviation_pct", -1},
    {"salary_missed_count_180d", 1},   {"balance_drawdown_30d_pct", 1},
    {"days_below_min_balance_30d", 1}, {"bill_lateness_avg_days_90d", 1},
    {"loan_late_count_180d", 1},       {"partial_payment_count_90d", 1},
    {"payment_undershoot_pct_90d", 1}, {"failed_autodebit_count_30d", 1},
    {"failed_txn_count_30d", 1},       {"cash_reliance_ratio_30d", 1},
    {"financial_stress_composite", 1}, {"behavioral_anomaly_count", 1},
};

static char *
monotone_constraints(void)
{
	int direction[PD_NUM_FEATURES] = {0};
	StringInfoData buf;

	for (int j = 0; j < lengthof(monotone); j++)
		direction[feature_index(monotone[j].feature)] = monotone[j].direction;
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '(');
	for (int i = 0; i < PD_NUM_FEATURES; i++)
		appendStringInfo(&buf, "%s%d", i > 0 ? "," : "", direction[i]);
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/*
 * The defaults: shallow trees, a slow learning rate, large leaves, L2 on
 * the leaf weights, row and column sampling and the monotone constraints
 * above. They prefer many small steps on broad behaviour to a few that
 * memorise one bank. (Chosen on the in-bank held-out customers and on a
 * validation bank of another seed; see models/MODEL_CARD.md.)
 */
static void
default_params(XgbParams *p, int32 seed)
{
	p->n = 0;
	p->rounds = 300;
	initStringInfo(&p->given);
	set_param(p, "objective", "binary:logistic", PARAM_STRING);
	set_param(p, "tree_method", "hist", PARAM_STRING);
	set_param(p, "max_depth", "3", PARAM_NUMBER);
	set_param(p, "eta", "0.05", PARAM_NUMBER);
	set_param(p, "min_child_weight", "20", PARAM_NUMBER);
	set_param(p, "lambda", "10", PARAM_NUMBER);
	set_param(p, "gamma", "1", PARAM_NUMBER);
	set_param(p, "subsample", "0.8", PARAM_NUMBER);
	set_param(p, "colsample_bytree", "0.8", PARAM_NUMBER);
	set_param(p, "max_bin", "64", PARAM_NUMBER);
	set_param(p, "monotone_constraints", monotone_constraints(), PARAM_STRING);
	set_param(p, "seed", psprintf("%d", seed), PARAM_NUMBER);
	set_param(p, "nthread", psprintf("%d", pd_xgboost_nthread), PARAM_NUMBER);
}

static void
bad_param(const char *key, const char *problem, const char *hint)
{
	ereport(ERROR,
	        (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
	         errmsg("params.%s %s", key, problem), errhint("%s", hint)));
}

/* The user's params (a JSON object) over the defaults. */
static void
apply_user_params(XgbParams *p, Jsonb *params)
{
	JsonbIterator *it;
	JsonbIteratorToken token;
	JsonbValue v;
	char *key = NULL;

	if (!JB_ROOT_IS_OBJECT(params) || JB_ROOT_IS_SCALAR(params))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("params must be a JSON object"),
		                errhint("Pass XGBoost parameters such as "
		                        "'{\"max_depth\": 3, \"eta\": 0.05, "
		                        "\"num_boost_round\": 300}'.")));
	it = JsonbIteratorInit(&params->root);
	while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char *value;
		XgbValueKind kind;

		if (token == WJB_KEY)
		{
			key = pnstrdup(v.val.string.val, v.val.string.len);
			appendStringInfo(&p->given, "%s%s", p->given.len > 0 ? ", " : "",
			                 key);
			continue;
		}
		if (token != WJB_VALUE)
			continue;
		switch (v.type)
		{
			case jbvString:
				value = pnstrdup(v.val.string.val, v.val.string.len);
				kind = PARAM_STRING;
				break;
			case jbvNumeric:
				value = DatumGetCString(DirectFunctionCall1(
				    numeric_out, NumericGetDatum(v.val.numeric)));
				kind = PARAM_NUMBER;
				break;
			case jbvBool:
				value = v.val.boolean ? "true" : "false";
				kind = PARAM_BOOL;
				break;
			default:
				bad_param(key,
				          "must be a string, a number or a boolean, not "
				          "null, an array or an object",
				          "Pass one value per XGBoost parameter, e.g. "
				          "{\"max_depth\": 3}.");
				pg_unreachable();
		}

		if (strcmp(key, "num_boost_round") == 0)
		{
			char *end;
			long rounds = strtol(value, &end, 10);

			if (kind != PARAM_NUMBER || *end != '\0' || rounds < 1 ||
			    rounds > MAX_ROUNDS)
				bad_param(key,
				          psprintf("must be a whole number from 1 to %d",
				                   MAX_ROUNDS),
				          "It is the number of boosting rounds, e.g. 300.");
			p->rounds = (int) rounds;
			continue;
		}
		if (strcmp(key, "objective") == 0 &&
		    strcmp(value, "binary:logistic") != 0 &&
		    strcmp(value, "reg:logistic") != 0)
			bad_param(key, "must be \"binary:logistic\" or \"reg:logistic\"",
			          "Scoring reads the booster's output as a "
			          "probability of the label.");
		if (strcmp(key, "booster") == 0 && strcmp(value, "gbtree") != 0 &&
		    strcmp(value, "dart") != 0)
			bad_param(key, "must be \"gbtree\" or \"dart\"",
			          "explain_customer needs trees (TreeSHAP).");
		if (strcmp(key, "num_class") == 0 || strcmp(key, "num_target") == 0)
			bad_param(key, "is not supported",
			          "train_model trains one probability: remove it.");
		/* thousands of threads in one backend otherwise */
		if (strcmp(key, "nthread") == 0 || strcmp(key, "n_jobs") == 0)
			bad_param(key, "is not accepted here",
			          "Set pre_delinquency.xgboost_nthread (at most 64) "
			          "instead.");
		set_param(p, key, value, kind);
	}
}

static void
append_params_json(StringInfo buf, const XgbParams *p)
{
	appendStringInfo(buf, "{\"num_boost_round\": %d", p->rounds);
	for (int i = 0; i < p->n; i++)
	{
		appendStringInfoString(buf, ", ");
		escape_json(buf, p->items[i].key);
		appendStringInfoString(buf, ": ");
		if (p->items[i].kind == PARAM_STRING)
			escape_json(buf, p->items[i].value);
		else
			appendStringInfoString(buf, p->items[i].value);
	}
	appendStringInfoChar(buf, '}');
}

/* ------------------------------------------------------------------------
 * XGBoost
 * ------------------------------------------------------------------------
 */

/*
 * XGBoost's log. Its default prints to stderr (the server log); so does
 * this, and while we configure a booster it also remembers the warning
 * that names parameters no part of XGBoost used (validate_parameters).
 * Called on the thread that logs: only plain C here.
 */
static bool capture_unused = false;
static char unused_params[512];

static void
xgb_log(const char *message)
{
	if (capture_unused && strstr(message, "are not used") != NULL &&
	    unused_params[0] == '\0')
		strlcpy(unused_params, message, sizeof(unused_params));
	fprintf(stderr, "%s%s", message,
	        message[0] && message[strlen(message) - 1] == '\n' ? "" : "\n");
}

/*
 * XGBoost's message without its "[12:34:56] file.cc:123: " prefix, the
 * lines after the first and the stack trace: stable and readable.
 */
static char *
xgb_message(const char *raw)
{
	const char *start = raw;
	const char *p;
	size_t word;

	if (*start == '[' && (p = strstr(start, "] ")) != NULL)
		start = p + 2;
	if (strncmp(start, "WARNING: ", 9) == 0)
		start += 9;
	/* "./src/learner.cc:767:" */
	word = strcspn(start, " \n");
	if (word > 1 && start[word - 1] == ':' && memchr(start, '.', word) != NULL)
		start += word;
	while (*start == '\n' || *start == ' ')
		start++;
	return pnstrdup(start, strcspn(start, "\n"));
}

static void
params_rejected(const XgbParams *p, const char *detail)
{
	ereport(ERROR,
	        (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
	         errmsg("XGBoost rejected the training parameters"),
	         errdetail("XGBoost: %s", detail),
	         errhint("Fix or remove the key of params it names (params had: "
	                 "%s); the keys are XGBoost 1.7's parameters plus "
	                 "num_boost_round.",
	                 p->given.len > 0 ? p->given.data : "none")));
}

/*
 * A booster with our parameters, configured (so that XGBoost checks them
 * now), for 'train'.
 */
static void
configure_booster(BoosterHandle booster, const XgbParams *p)
{
	static bool registered = false;
	bst_ulong len;
	const char *config;
	int rc;

	if (!registered)
	{
		XGB_CHECK(XGBRegisterLogCallback(xgb_log), "registering a logger");
		registered = true;
	}
	XGB_CHECK(XGBoosterSetParam(booster, "validate_parameters", "1"),
	          "setting validate_parameters");
	for (int i = 0; i < p->n; i++)
		if (XGBoosterSetParam(booster, p->items[i].key, p->items[i].value) !=
		    0)
			params_rejected(p, pd_xgb_last_error());

	unused_params[0] = '\0';
	capture_unused = true;
	rc = XGBoosterSaveJsonConfig(booster, &len, &config);
	capture_unused = false;
	if (rc != 0)
		params_rejected(p, pd_xgb_last_error());
	if (unused_params[0] != '\0')
		ereport(ERROR,
		        (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		         errmsg("XGBoost does not know some of the training "
		                "parameters"),
		         errdetail("XGBoost: %s", xgb_message(unused_params)),
		         errhint("Check the spelling; the keys are XGBoost 1.7's "
		                 "parameters plus num_boost_round.")));
}

/* The booster, trained for p->rounds rounds on (x, y). */
static void
train_booster(BoosterHandle *booster, DMatrixHandle *matrix, const float *x,
              const float *y, int64 n, const XgbParams *p)
{
	TimestampTz started = GetCurrentTimestamp();

	XGB_CHECK(XGDMatrixCreateFromMat(x, n, PD_NUM_FEATURES, NAN, matrix),
	          "building the training matrix");
	XGB_CHECK(XGDMatrixSetFloatInfo(*matrix, "label", y, n),
	          "setting the labels");
	XGB_CHECK(XGBoosterCreate(matrix, 1, booster), "creating a booster");
	configure_booster(*booster, p);
	for (int round = 0; round < p->rounds; round++)
	{
		CHECK_FOR_INTERRUPTS();
		if (XGBoosterUpdateOneIter(*booster, round, *matrix) != 0)
			params_rejected(p, pd_xgb_last_error());
		if (n >= 50000 && p->rounds >= 4 &&
		    (round + 1) % (p->rounds / 4) == 0 && round + 1 < p->rounds)
			ereport(NOTICE, (errmsg("train_model: %d of %d rounds (%.1f s)",
			                        round + 1, p->rounds,
			                        (GetCurrentTimestamp() - started) / 1e6)));
	}
}

static bytea *
save_booster(BoosterHandle booster)
{
	bst_ulong len;
	const char *bytes;
	bytea *result;

	XGB_CHECK(XGBoosterSaveModelToBuffer(booster, "{\"format\": \"ubj\"}",
	                                     &len, &bytes),
	          "saving the booster");
	result = palloc(VARHDRSZ + len);
	SET_VARSIZE(result, VARHDRSZ + len);
	memcpy(VARDATA(result), bytes, len);
	return result;
}

/*
 * Trains the booster, appends its metrics on the test rows to 'metrics' and
 * returns its UBJ bytes. The XGBoost handles live in palloc'd memory, so
 * that they survive the longjmp of an ERROR and are freed on every path.
 */
typedef struct XgbHandles
{
	BoosterHandle booster;
	DMatrixHandle matrix;
	bytea *bytes;
} XgbHandles;

static bytea *
train_and_measure(const XgbParams *p, const float *x_train,
                  const float *y_train, int64 n_train, const float *x_test,
                  const float *y_test, int64 n_test, StringInfo metrics)
{
	XgbHandles *h = palloc0(sizeof(XgbHandles));

	PG_TRY();
	{
		train_booster(&h->booster, &h->matrix, x_train, y_train, n_train, p);
		appendStringInfoChar(metrics, '{');
		pd_append_evaluation_json(metrics, h->booster, x_test, y_test, n_test);
		appendStringInfo(metrics,
		                 ", \"n_train\": %lld, \"n_test\": %lld, "
		                 "\"feature_importance\": ",
		                 (long long) n_train, (long long) n_test);
		pd_append_importance_json(metrics, h->booster);
		appendStringInfoChar(metrics, '}');
		h->bytes = save_booster(h->booster);
	}
	PG_FINALLY();
	{
		if (h->booster != NULL)
			XGBoosterFree(h->booster);
		if (h->matrix != NULL)
			XGDMatrixFree(h->matrix);
	}
	PG_END_TRY();
	return h->bytes;
}

/* ------------------------------------------------------------------------
 * SQL: train_model(name, train_end, params, seed)
 * ------------------------------------------------------------------------
 */

/* "2025-06-30": the UTC day of a time, for messages */
static char *
utc_day(TimestampTz t)
{
	return pnstrdup(pd_utc_text(t), 10);
}

/* ERROR (no_data_found): nothing to learn from or measure on. */
static void
no_observations(const Sampling *s, const char *what, const char *hint)
{
	ereport(ERROR,
	        (errcode(ERRCODE_NO_DATA_FOUND), errmsg("%s: %s", s->caller, what),
	         errdetail("The data runs from %s to %s (UTC); an as_of needs %d "
	                   "days of data before it and %d days of payments after "
	                   "it.",
	                   utc_day(s->data_start), utc_day(s->data_end),
	                   HISTORY_DAYS, LABEL_GAP_DAYS),
	         errhint("%s", hint)));
}

PG_FUNCTION_INFO_V1(pd_train_model);
Datum
pd_train_model(PG_FUNCTION_ARGS)
{
	char *name;
	TimestampTz train_end;
	int32 seed;
	XgbParams params;
	Sampling s = {0};
	Observations o = {0};
	float *x_train, *y_train, *x_test, *y_test;
	int64 n_train, n_test, pos_train, pos_test;
	StringInfoData metrics, training, params_json;
	bytea *bytes;
	TimestampTz started = GetCurrentTimestamp();
	double features_s, training_s;
	Datum args[6];
	Oid types[6] = {TEXTOID,  TEXTARRAYOID, BYTEAOID,
	                JSONBOID, JSONBOID,     JSONBOID};
	Datum names[PD_NUM_FEATURES];
	bool isnull;
	int32 model_id;

	pd_require_argument(fcinfo, 0, "name");
	pd_require_argument(fcinfo, 1, "train_end");
	pd_require_argument(fcinfo, 2, "params");
	pd_require_argument(fcinfo, 3, "seed");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	train_end = PG_GETARG_TIMESTAMPTZ(1);
	seed = PG_GETARG_INT32(3);
	if (name[0] == '\0')
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("name must not be empty"),
		                errhint("Name the model, e.g. 'stress-2025-06'.")));
	default_params(&params, seed);
	apply_user_params(&params, PG_GETARG_JSONB_P(2));

	/* observations, split by customer */
	s.caller = "train_model";
	s.offset_seed = seed;
	s.split = true;
	s.split_seed = seed;
	s.from = DT_NOBEGIN;
	if (TIMESTAMP_NOT_FINITE(train_end))
		s.to = train_end;
	else
		s.to = train_end - DAYS(LABEL_GAP_DAYS);
	o.cxt = CurrentMemoryContext;
	SPI_connect();
	read_data_window(&s);
	if (TIMESTAMP_IS_NOBEGIN(train_end) || s.last_as_of < s.first_as_of)
		no_observations(
		    &s, "train_end leaves no as_of to learn from",
		    psprintf("Pass a train_end on or after %s.",
		             utc_day(s.first_as_of + DAYS(LABEL_GAP_DAYS))));
	collect_observations(&s, &o);
	SPI_finish();
	features_s = (GetCurrentTimestamp() - started) / 1e6;

	n_train = select_rows(&o, false, &x_train, &y_train);
	n_test = select_rows(&o, true, &x_test, &y_test);
	pos_train = count_positives(y_train, n_train);
	pos_test = count_positives(y_test, n_test);
	if (n_train == 0)
		no_observations(&s,
		                "no labelled observation before train_end - 35 days "
		                "(no loan payment due after any as_of)",
		                "Pass a later train_end, or load more history and "
		                "loan payments.");
	if (pos_train == 0 || pos_train == n_train)
		ereport(ERROR,
		        (errcode(ERRCODE_NO_DATA_FOUND),
		         errmsg("train_model: the training observations all have "
		                "label %d",
		                pos_train == 0 ? 0 : 1),
		         errdetail("%lld observations of %lld customers.",
		                   (long long) n_train,
		                   (long long) (o.customers - o.test_customers)),
		         errhint("Train on more customers or a longer window.")));
	if (n_test == 0)
		ereport(WARNING,
		        (errmsg("train_model: the held-out customers have no "
		                "labelled observation, so the model has no metrics"),
		         errhint("Train on more customers.")));
	if (get_param(&params, "base_score") == NULL)
		set_param(&params, "base_score",
		          psprintf("%.6g", (double) pos_train / n_train),
		          PARAM_NUMBER);

	initStringInfo(&metrics);
	initStringInfo(&params_json);
	append_params_json(&params_json, &params);
	bytes = train_and_measure(&params, x_train, y_train, n_train, x_test,
	                          y_test, n_test, &metrics);
	training_s = (GetCurrentTimestamp() - started) / 1e6 - features_s;

	initStringInfo(&training);
	appendStringInfoChar(&training, '{');
	append_sampling_json(&training, &s);
	appendStringInfoString(&training, ", \"train_end\": ");
	pd_append_json_time(&training, train_end);
	appendStringInfo(
	    &training,
	    ", \"seed\": %d, \"split\": \"by customer, seeded hash, %d%% held "
	    "out\", \"customers\": %lld, \"customers_train\": %lld, "
	    "\"customers_test\": %lld, \"n_train\": %lld, \"n_test\": %lld, "
	    "\"positives_train\": %lld, \"positives_test\": %lld, "
	    "\"features_seconds\": %.1f, \"training_seconds\": %.1f}",
	    seed, TEST_PERCENT, (long long) o.customers,
	    (long long) (o.customers - o.test_customers),
	    (long long) o.test_customers, (long long) n_train, (long long) n_test,
	    (long long) pos_train, (long long) pos_test, features_s, training_s);

	for (int i = 0; i < PD_NUM_FEATURES; i++)
		names[i] = CStringGetTextDatum(pd_feature_name_list[i]);
	args[0] = CStringGetTextDatum(name);
	args[1] = PointerGetDatum(construct_array(names, PD_NUM_FEATURES, TEXTOID,
	                                          -1, false, TYPALIGN_INT));
	args[2] = PointerGetDatum(bytes);
	args[3] = json_to_jsonb(&params_json);
	args[4] = json_to_jsonb(&metrics);
	args[5] = json_to_jsonb(&training);
	SPI_connect();
	if (SPI_execute_with_args(
	        "INSERT INTO pre_delinquency.models "
	        "(name, feature_names, booster, params, metrics, training) "
	        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING model_id",
	        6, types, args, NULL, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not store the model");
	model_id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
	                                       SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();

	ereport(NOTICE,
	        (errmsg("train_model: model %d from %lld observations (%lld "
	                "positive) of %lld customers; held-out %lld; %.1f s "
	                "features, %.1f s training",
	                model_id, (long long) n_train, (long long) pos_train,
	                (long long) (o.customers - o.test_customers),
	                (long long) n_test, features_s, training_s),
	         errhint("Activate it with SELECT "
	                 "pre_delinquency.activate_model(%d).",
	                 model_id)));
	PG_RETURN_INT32(model_id);
}

/* ------------------------------------------------------------------------
 * SQL: evaluate_model(model_id, from_time, to_time)
 * ------------------------------------------------------------------------
 */

/* ERROR unless a stored model's feature list is feature_names(). */
static void
check_model_features(int32 model_id, ArrayType *names)
{
	Datum *elems;
	bool *nulls;
	int n;
	bool same;

	deconstruct_array(names, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls,
	                  &n);
	same = n == PD_NUM_FEATURES;
	for (int i = 0; same && i < n; i++)
		same = !nulls[i] && strcmp(TextDatumGetCString(elems[i]),
		                           pd_feature_name_list[i]) == 0;
	if (!same)
		ereport(ERROR,
		        (errcode(ERRCODE_DATA_EXCEPTION),
		         errmsg("model %d expects other features than this version "
		                "of pre_delinquency computes",
		                model_id),
		         errhint("Evaluate a model trained by this version.")));
}

PG_FUNCTION_INFO_V1(pd_evaluate_model);
Datum
pd_evaluate_model(PG_FUNCTION_ARGS)
{
	int32 model_id;
	Sampling s = {0};
	Observations o = {0};
	Oid types[1] = {INT4OID};
	Datum args[1];
	bool isnull;
	bytea *bytes;
	BoosterHandle volatile booster = NULL;
	StringInfoData result;
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext oldcxt;

	pd_require_argument(fcinfo, 0, "model_id");
	pd_require_argument(fcinfo, 1, "from_time");
	pd_require_argument(fcinfo, 2, "to_time");
	model_id = PG_GETARG_INT32(0);
	s.caller = "evaluate_model";
	s.offset_seed = EVAL_SAMPLING;
	s.from = PG_GETARG_TIMESTAMPTZ(1);
	s.to = PG_GETARG_TIMESTAMPTZ(2);
	if (s.from > s.to)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("from_time must not be after to_time"),
		                errhint("Pass the earliest as_of first.")));

	SPI_connect();
	args[0] = Int32GetDatum(model_id);
	SPI_execute_with_args("SELECT feature_names, booster "
	                      "FROM pre_delinquency.models WHERE model_id = $1",
	                      1, types, args, NULL, true, 1);
	if (SPI_processed == 0)
		ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND),
		                errmsg("model %d does not exist", model_id),
		                errhint("See SELECT model_id, name FROM "
		                        "pre_delinquency.models.")));
	check_model_features(model_id, DatumGetArrayTypeP(SPI_getbinval(
	                                   SPI_tuptable->vals[0],
	                                   SPI_tuptable->tupdesc, 1, &isnull)));
	oldcxt = MemoryContextSwitchTo(caller);
	bytes = DatumGetByteaPCopy(SPI_getbinval(
	    SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	MemoryContextSwitchTo(oldcxt);
	read_data_window(&s);
	if (s.last_as_of < s.first_as_of)
		no_observations(
		    &s, "no as_of in [from_time, to_time] can be labelled",
		    psprintf("Pass a window that overlaps %s to %s.",
		             utc_day(pd_date_start(pd_utc_date(s.data_start)) +
		                     DAYS(HISTORY_DAYS)),
		             utc_day(s.data_end - DAYS(LABEL_GAP_DAYS))));
	if (!TIMESTAMP_IS_NOEND(s.to) && s.to > s.data_end - DAYS(LABEL_GAP_DAYS))
		ereport(NOTICE,
		        (errmsg("evaluate_model: as_of stops 35 days before the last "
		                "transaction"),
		         errdetail("Later labels would read payments not yet "
		                   "recorded.")));
	o.cxt = caller;
	collect_observations(&s, &o);
	SPI_finish();
	if (o.n == 0)
		no_observations(&s, "no labelled observation in [from_time, to_time]",
		                "Pass a wider window, or load loan payments.");

	initStringInfo(&result);
	appendStringInfo(&result, "{\"model_id\": %d, \"customers\": %lld, ",
	                 model_id, (long long) o.customers);
	append_sampling_json(&result, &s);
	appendStringInfoString(&result, ", ");
	PG_TRY();
	{
		booster = pd_load_booster(model_id, bytes);
		pd_append_evaluation_json(&result, booster, o.x, o.y, o.n);
	}
	PG_FINALLY();
	{
		if (booster != NULL)
			XGBoosterFree(booster);
	}
	PG_END_TRY();
	appendStringInfoChar(&result, '}');
	PG_RETURN_DATUM(json_to_jsonb(&result));
}
