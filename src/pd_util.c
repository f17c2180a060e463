/*
 * pd_util.c
 *    Money and calendar helpers: exact cents from numeric(14,2) and UTC
 *    calendar arithmetic on dates and timestamps; pd_execute_kept, the
 *    statements run with a plan kept for the backend's life; and acting as
 *    a table's owner (pd_begin_as_owner) for the extension's internal writes
 *    and row locks.
 *
 * Money is handled as int64 cents so that sums, comparisons and threshold
 * tests are exact; nothing here knows about features or tables.
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/syscache.h"

#include "pd_util.h"

/*
 * The on-disk numeric format (src/backend/utils/adt/numeric.c), which is
 * stable across releases because pg_upgrade keeps data files as they are:
 * a uint16 header, for the long form an int16 weight, then base-10000
 * digits. Decoding it directly is ~10x faster than numeric_mul + numeric_int8
 * and the feature engine decodes hundreds of amounts per call.
 */
#define NUM_SIGN_MASK              0xC000
#define NUM_NEG                    0x4000
#define NUM_SHORT                  0x8000
#define NUM_SPECIAL                0xC000
#define NUM_SHORT_SIGN_MASK        0x2000
#define NUM_SHORT_WEIGHT_SIGN_MASK 0x0040
#define NUM_SHORT_WEIGHT_MASK      0x003F
#define NUM_BASE                   10000

static int64 numeric_to_cents_slow(Datum value);

int64
pd_numeric_to_cents(Datum value)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(value);
	const char *p;
	Size len;
	uint16 header;
	int weight;
	bool negative;
	int ndigits;
	int64 cents = 0;

	if (VARATT_IS_EXTENDED(v) && !VARATT_IS_SHORT(v))
		return numeric_to_cents_slow(value); /* compressed or toasted */

	p = VARDATA_ANY(v);
	len = VARSIZE_ANY_EXHDR(v);
	memcpy(&header, p, sizeof(uint16));
	p += sizeof(uint16);
	len -= sizeof(uint16);

	if ((header & NUM_SIGN_MASK) == NUM_SPECIAL)
		return numeric_to_cents_slow(value); /* NaN, +-Infinity */
	if ((header & NUM_SIGN_MASK) == NUM_SHORT)
	{
		negative = (header & NUM_SHORT_SIGN_MASK) != 0;
		weight = (header & NUM_SHORT_WEIGHT_MASK);
		if (header & NUM_SHORT_WEIGHT_SIGN_MASK)
			weight |= ~NUM_SHORT_WEIGHT_MASK;
	}
	else
	{
		int16 w;

		negative = (header & NUM_SIGN_MASK) == NUM_NEG;
		memcpy(&w, p, sizeof(int16));
		weight = w;
		p += sizeof(int16);
		len -= sizeof(int16);
	}

	ndigits = len / sizeof(int16);
	/* Integer part beyond 10^16 cents cannot be numeric(14,2): go slow. */
	if (weight > 3)
		return numeric_to_cents_slow(value);

	for (int i = 0; i < ndigits; i++)
	{
		int16 digit;
		int pos = weight - i; /* power of 10000 of this digit */

		memcpy(&digit, p + i * sizeof(int16), sizeof(int16));
		if (pos >= 0)
		{
			int64 scale = 100;

			for (int k = 0; k < pos; k++)
				scale *= NUM_BASE;
			cents += digit * scale;
		}
		else if (pos == -1 && digit % 100 == 0)
			cents += digit / 100;
		else if (digit != 0)
			return numeric_to_cents_slow(value); /* finer than cents */
	}
	return negative ? -cents : cents;
}

/*
 * Anything the fast path does not take: round to cents through numeric
 * arithmetic, with the usual errors for NaN and out-of-range values.
 */
static int64
numeric_to_cents_slow(Datum value)
{
	Datum hundred = NumericGetDatum(int64_to_numeric(100));
	Datum scaled = DirectFunctionCall2(numeric_mul, value, hundred);

	scaled = DirectFunctionCall2(numeric_round, scaled, Int32GetDatum(0));
	return DatumGetInt64(DirectFunctionCall1(numeric_int8, scaled));
}

void
pd_money_overflow(void)
{
	ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
	                errmsg("a sum of this customer's amounts exceeds the "
	                       "feature engine's range"),
	                errhint("Sums beyond 10^16 currency units cannot be real; "
	                        "check the data.")));
}

double
pd_pct(__int128 a, __int128 b)
{
	if (b <= 0)
		return 0.0;
	return (double) ((long double) (a * 100) / (long double) b);
}

DateADT
pd_utc_date(TimestampTz t)
{
	/* Floor division: times before 2000-01-01 have negative offsets. */
	int64 days = t / PD_USECS_PER_DAY;

	if (t % PD_USECS_PER_DAY < 0)
		days--;
	return (DateADT) days;
}

int
pd_utc_weekday(TimestampTz t)
{
	/* 2000-01-01 was a Saturday. */
	int64 w = ((int64) pd_utc_date(t) + 6) % 7;

	return (int) (w < 0 ? w + 7 : w);
}

void
pd_date_parts(DateADT d, int *year, int *month, int *day)
{
	j2date(d + POSTGRES_EPOCH_JDATE, year, month, day);
}

DateADT
pd_make_date(int year, int month, int day)
{
	return date2j(year, month, day) - POSTGRES_EPOCH_JDATE;
}

DateADT
pd_add_months(DateADT d, int months)
{
	int year, month, day;
	int index;

	pd_date_parts(d, &year, &month, &day);
	index = year * 12 + (month - 1) + months;
	/* floor division keeps years before 0 right, as unlikely as they are */
	year = index >= 0 ? index / 12 : -((-index + 11) / 12);
	month = index - year * 12 + 1;
	if (day > day_tab[isleap(year)][month - 1])
		day = day_tab[isleap(year)][month - 1];
	return pd_make_date(year, month, day);
}

void
pd_check_as_of(TimestampTz as_of)
{
	/* The windows reach 7 months back and the label 30 days ahead. */
	if (TIMESTAMP_NOT_FINITE(as_of) ||
	    !IS_VALID_TIMESTAMP(as_of - 400 * PD_USECS_PER_DAY) ||
	    !IS_VALID_TIMESTAMP(as_of + 400 * PD_USECS_PER_DAY))
		ereport(
		    ERROR,
		    (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		     errmsg("as_of must be a finite time within the timestamp range"),
		     errhint("Pass a time such as now() or '2025-06-30 00:00+00'.")));
}

void
pd_require_argument(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
		                errmsg("%s must not be NULL", name)));
}

/*
 * Runs a statement through a plan prepared once per backend (SPI_keepplan;
 * the plan cache re-plans after DDL). The workers run the same few
 * statements for every batch, and for small batches planning them anew
 * cost more than running them. The plan is generic: with a custom one per
 * call (the plan cache's choice whenever an array's length makes a custom
 * plan look cheaper, which for unnest($1) is always) every call planned
 * again. Only for constant SQL text: the plan is keyed by the caller's
 * static pointer, not by the text.
 */
int
pd_execute_kept(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types,
                Datum *args, const char *nulls, bool read_only)
{
	if (*plan == NULL)
	{
		SPIPlanPtr p =
		    SPI_prepare_cursor(sql, nargs, types, CURSOR_OPT_GENERIC_PLAN);

		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "could not prepare \"%s\": %s", sql,
			     SPI_result_code_string(SPI_result));
		*plan = p;
	}
	return SPI_execute_plan(*plan, args, nulls, read_only, 0);
}

static MemoryContext jsonb_scratch = NULL;

MemoryContext
pd_jsonb_scratch_begin(void)
{
	if (jsonb_scratch == NULL)
		jsonb_scratch = AllocSetContextCreate(TopMemoryContext,
		                                      "pre_delinquency jsonb rows",
		                                      ALLOCSET_DEFAULT_SIZES);
	/* whatever an ERROR left in it */
	MemoryContextReset(jsonb_scratch);
	return MemoryContextSwitchTo(jsonb_scratch);
}

Datum
pd_jsonb_scratch_finish(JsonbValue *value, MemoryContext caller)
{
	Jsonb *result;

	MemoryContextSwitchTo(caller);
	result = JsonbValueToJsonb(value);
	MemoryContextReset(jsonb_scratch);
	return JsonbPGetDatum(result);
}

void
pd_jsonb_push_key(JsonbParseState **state, const char *key)
{
	JsonbValue v;

	v.type = jbvString;
	v.val.string.val = (char *) key;
	v.val.string.len = strlen(key);
	pushJsonbValue(state, WJB_KEY, &v);
}

void
pd_jsonb_push_string(JsonbParseState **state, const char *key,
                     const char *value)
{
	JsonbValue v;

	pd_jsonb_push_key(state, key);
	v.type = jbvString;
	v.val.string.val = (char *) value;
	v.val.string.len = strlen(value);
	pushJsonbValue(state, WJB_VALUE, &v);
}

void
pd_begin_as_owner(Oid relid, bool sql, PdAsOwner *as)
{
	HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid owner;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	as->guc_nestlevel = 0;
	if (sql)
	{
		as->guc_nestlevel = NewGUCNestLevel();
		(void) set_config_option("search_path", "pg_catalog, pg_temp",
		                         PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
		                         true, 0, false);
	}
	GetUserIdAndSecContext(&as->save_user, &as->save_sec);
	SetUserIdAndSecContext(owner, as->save_sec | SECURITY_LOCAL_USERID_CHANGE |
	                                  SECURITY_NOFORCE_RLS);
}

void
pd_end_as_owner(const PdAsOwner *as)
{
	SetUserIdAndSecContext(as->save_user, as->save_sec);
	if (as->guc_nestlevel > 0)
		AtEOXact_GUC(true, as->guc_nestlevel);
}
