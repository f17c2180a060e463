/*
 * synthetic.c
 *    The synthetic bank of FEATURES.md: pre_delinquency.generate_synthetic()
 *    fills customers, transactions and payments with a deterministic,
 *    behaviourally plausible population and keeps balance_ledger in step.
 *
 * This file is the SQL entry point: it checks the arguments, refuses a seed
 * already used, runs the customers one by one with NOTICE progress, and
 * returns the summary row with the share of positive labels. How a customer
 * behaves is synthetic_model.c's; how the rows are written, bulk_writer.c's.
 * Knows nothing about features or models.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "bulk_writer.h"
#include "pd_util.h"
#include "synthetic_model.h"

PG_FUNCTION_INFO_V1(pd_generate_synthetic);

#define MAX_CUSTOMERS 1000000
#define MAX_DAYS      3660

/* ------------------------------------------------------------------------
 * The summary
 * ------------------------------------------------------------------------
 */
#define N_SAMPLES 3
static const int sample_days_back[N_SAMPLES] = {35, 65, 95};

typedef struct Summary
{
	int64 customers, transactions, payments, failed, episodes;
	int64 labelled[N_SAMPLES], positive[N_SAMPLES];
	DateADT label_date[N_SAMPLES];
} Summary;

/* The label of FEATURES.md, read off this customer's loan payments. */
static void
count_labels(Summary *sum, const CustomerOutcome *c)
{
	for (int k = 0; k < N_SAMPLES; k++)
	{
		DateADT t = sum->label_date[k];
		bool due = false, positive = false;

		for (int j = 0; j < c->nobligations; j++)
		{
			const Obligation *o = &c->obligations[j];

			if (o->kind != PK_LOAN || o->due < t || o->due >= t + 30)
				continue;
			due = true;
			if (o->state != OBL_PAID || o->paid_date - o->due > 5)
				positive = true;
		}
		sum->labelled[k] += due;
		sum->positive[k] += positive;
	}
}

static void
add_to_summary(Summary *sum, const CustomerOutcome *c)
{
	count_labels(sum, c);
	sum->customers++;
	sum->transactions += c->transactions;
	sum->failed += c->failed;
	sum->payments += c->nobligations;
	sum->episodes += c->episode;
}

/* ------------------------------------------------------------------------
 * The SQL entry point
 * ------------------------------------------------------------------------
 */
static void
error_if_null(FunctionCallInfo fcinfo)
{
	static const char *const names[] = {"customers", "days", "seed",
	                                    "end_time"};

	for (int i = 0; i < PG_NARGS() && i < lengthof(names); i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			                errmsg("%s must not be NULL", names[i]),
			                errhint("Pass customers, days and seed; end_time "
			                        "defaults to now().")));
}

static Window
window_from_arguments(FunctionCallInfo fcinfo)
{
	Window win;

	error_if_null(fcinfo);
	win.customers = PG_GETARG_INT32(0);
	win.days = PG_GETARG_INT32(1);
	win.seed = (uint32) PG_GETARG_INT32(2);
	win.end = PG_GETARG_TIMESTAMPTZ(3);

	if (win.customers <= 0 || win.customers > MAX_CUSTOMERS)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("customers must be between 1 and %d, not %d",
		                       MAX_CUSTOMERS, win.customers),
		                errhint("For a larger bank, call generate_synthetic "
		                        "again with another seed.")));
	if (win.days <= 0 || win.days > MAX_DAYS)
		ereport(ERROR,
		        (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		         errmsg("days must be between 1 and %d (10 years), not %d",
		                MAX_DAYS, win.days),
		         errhint("Pass the length of the simulated window in days, "
		                 "e.g. 365.")));
	if (TIMESTAMP_NOT_FINITE(win.end))
		ereport(
		    ERROR,
		    (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		     errmsg("end_time must be finite"),
		     errhint("Pass a time such as now() or '2025-06-30 00:00+00'.")));
	win.start = win.end - (int64) win.days * PD_USECS_PER_DAY;
	/* accounts open up to ~3000 days before the window: stay well inside */
	if (win.end < pd_date_start(pd_make_date(1000, 1, 1)) ||
	    win.end > pd_date_start(pd_make_date(9000, 1, 1)))
		ereport(
		    ERROR,
		    (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		     errmsg(
		         "end_time is out of the range generate_synthetic supports"),
		     errhint("Pass an end_time between the years 1000 and 9000.")));
	return win;
}

/* Same seed twice would collide on every uuid: say so before writing. */
static void
error_if_seed_used(uint32 seed)
{
	pg_uuid_t lo, hi;
	Oid types[2] = {UUIDOID, UUIDOID};
	Datum values[2];
	bool exists;

	pd_synthetic_customer_range(seed, &lo, &hi);
	values[0] = UUIDPGetDatum(&lo);
	values[1] = UUIDPGetDatum(&hi);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT 1 FROM pre_delinquency.customers "
	                          "WHERE customer_id BETWEEN $1 AND $2 LIMIT 1",
	                          2, types, values, NULL, true,
	                          1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up the customers of seed %d",
		     (int32) seed);
	exists = SPI_processed > 0;
	SPI_finish();
	if (exists)
		ereport(ERROR,
		        (errcode(ERRCODE_UNIQUE_VIOLATION),
		         errmsg("customers of seed %d already exist", (int32) seed),
		         errhint("Use another seed, or delete them first: DELETE FROM "
		                 "pre_delinquency.customers WHERE customer_id BETWEEN "
		                 "'%s' AND '%s'.",
		                 DatumGetCString(DirectFunctionCall1(
		                     uuid_out, UUIDPGetDatum(&lo))),
		                 DatumGetCString(DirectFunctionCall1(
		                     uuid_out, UUIDPGetDatum(&hi))))));
}

static void
report_progress(const Window *win, int done)
{
	if (win->customers < 2000)
		return;
	if ((int64) done * 10 / win->customers !=
	    (int64) (done - 1) * 10 / win->customers)
		ereport(NOTICE,
		        (errmsg("generate_synthetic: %d of %d customers (%d%%)", done,
		                win->customers,
		                (int) ((int64) done * 100 / win->customers))));
}

/* [{"as_of": ..., "labelled": n, "positive_share": x}, ...] */
static Datum
label_share_json(const Summary *sum, const Window *win)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (int k = 0; k < N_SAMPLES; k++)
	{
		TimestampTz t = win->end - sample_days_back[k] * PD_USECS_PER_DAY;
		struct pg_tm tm;
		fsec_t fsec;

		/* no time zone: the broken-down UTC time */
		if (timestamp2tm(t, NULL, &tm, &fsec, NULL, NULL) != 0)
			elog(ERROR, "timestamp out of range");
		appendStringInfo(&buf, "%s{\"as_of\": \"%04d-%02d-%02dT%02d:%02d:%02d",
		                 k ? ", " : "", tm.tm_year, tm.tm_mon, tm.tm_mday,
		                 tm.tm_hour, tm.tm_min, tm.tm_sec);
		if (fsec)
			appendStringInfo(&buf, ".%06d", (int) fsec);
		appendStringInfo(&buf, "+00:00\", \"labelled\": " INT64_FORMAT,
		                 sum->labelled[k]);
		if (sum->labelled[k] > 0)
			appendStringInfo(&buf, ", \"positive_share\": %.4f}",
			                 (double) sum->positive[k] / sum->labelled[k]);
		else
			appendStringInfoString(&buf, ", \"positive_share\": null}");
	}
	appendStringInfoChar(&buf, ']');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

Datum
pd_generate_synthetic(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Window win = window_from_arguments(fcinfo);
	Summary sum;
	Writer *w;
	MemoryContext gen_cxt, customer_cxt, old;
	instr_time started, elapsed;
	Datum values[7];
	bool nulls[7] = {false};

	PreventCommandIfReadOnly("generate_synthetic()");
	PreventCommandIfParallelMode("generate_synthetic()");
	INSTR_TIME_SET_CURRENT(started);
	error_if_seed_used(win.seed);

	memset(&sum, 0, sizeof(Summary));
	for (int k = 0; k < N_SAMPLES; k++)
		sum.label_date[k] =
		    pd_utc_date(win.end - sample_days_back[k] * PD_USECS_PER_DAY);

	gen_cxt = AllocSetContextCreate(CurrentMemoryContext, "generate_synthetic",
	                                ALLOCSET_DEFAULT_SIZES);
	customer_cxt = AllocSetContextCreate(gen_cxt, "synthetic customer",
	                                     ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(gen_cxt);
	w = pd_writer_open(win.seed);
	for (int c = 0; c < win.customers; c++)
	{
		CustomerOutcome outcome;

		CHECK_FOR_INTERRUPTS();
		MemoryContextSwitchTo(customer_cxt);
		pd_simulate_customer(w, &win, c, &outcome);
		add_to_summary(&sum, &outcome);
		MemoryContextSwitchTo(gen_cxt);
		MemoryContextReset(customer_cxt);
		report_progress(&win, c + 1);
	}
	pd_writer_close(w);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(gen_cxt);
	/* later commands of this transaction see the rows */
	CommandCounterIncrement();

	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, started);
	values[0] = Int64GetDatum(sum.customers);
	values[1] = Int64GetDatum(sum.transactions);
	values[2] = Int64GetDatum(sum.payments);
	values[3] = Int64GetDatum(sum.failed);
	values[4] = Float8GetDatum((double) sum.episodes / sum.customers);
	values[5] = label_share_json(&sum, &win);
	values[6] = Float8GetDatum(INSTR_TIME_GET_MILLISEC(elapsed));
	InitMaterializedSRF(fcinfo, 0);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}
