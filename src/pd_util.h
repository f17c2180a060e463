/*
 * pd_util.h
 *    Money and calendar helpers shared by the feature engine, the label and
 *    the synthetic bank.
 */
#ifndef PD_UTIL_H
#define PD_UTIL_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "common/int.h"
#include "fmgr.h"
#include "utils/date.h"

#define PD_USECS_PER_DAY INT64CONST(86400000000)

/* numeric(14,2) Datum -> exact whole cents */
extern int64 pd_numeric_to_cents(Datum value);

/* ERROR (numeric_value_out_of_range): a sum of amounts overflowed int64. */
extern void pd_money_overflow(void) pg_attribute_noreturn();

static inline int64
pd_add_money(int64 a, int64 b)
{
	int64 r;

	if (unlikely(pg_add_s64_overflow(a, b, &r)))
		pd_money_overflow();
	return r;
}

/* pct(a, b) = 100 a / b if b > 0, else 0, from exact integers. */
extern double pd_pct(__int128 a, __int128 b);

/* The UTC calendar date of a time, whatever the session's TimeZone. */
extern DateADT pd_utc_date(TimestampTz t);

/* 00:00 UTC of a date. */
static inline TimestampTz
pd_date_start(DateADT d)
{
	return (TimestampTz) d * PD_USECS_PER_DAY;
}

/* Day of week in UTC, 0 = Sunday .. 6 = Saturday. */
extern int pd_utc_weekday(TimestampTz t);

/* Year, month and day of month of a date. */
extern void pd_date_parts(DateADT d, int *year, int *month, int *day);
extern DateADT pd_make_date(int year, int month, int day);

/*
 * The same day of month, 'months' months later (negative: earlier), clamped
 * to the month's last day.
 */
extern DateADT pd_add_months(DateADT d, int months);

/* Is a text Datum equal to a literal of 'len' bytes? (No detoasting copy.) */
static inline bool
pd_text_equals(Datum value, const char *literal, int len)
{
	struct varlena *v =
	    pg_detoast_datum_packed((struct varlena *) DatumGetPointer(value));

	return VARSIZE_ANY_EXHDR(v) == len &&
	       memcmp(VARDATA_ANY(v), literal, len) == 0;
}

/* ERROR unless as_of is finite and its windows stay in the timestamp range. */
extern void pd_check_as_of(TimestampTz as_of);

/* ERROR (null_value_not_allowed) if argument n of a SQL call is NULL. */
extern void pd_require_argument(FunctionCallInfo fcinfo, int n,
                                const char *name);

struct _SPI_plan;
extern int pd_execute_kept(struct _SPI_plan **plan, const char *sql, int nargs,
                           Oid *types, Datum *args, const char *nulls,
                           bool read_only);

/* A key, or a key and its string value, into a jsonb being built. */
struct JsonbParseState;
extern void pd_jsonb_push_key(struct JsonbParseState **state, const char *key);
extern void pd_jsonb_push_string(struct JsonbParseState **state,
                                 const char *key, const char *value);

/*
 * Building a jsonb per row without keeping the building: begin switches to
 * a scratch context (returning the caller's), where the JsonbValue tree and
 * its strings and numbers go; finish makes the jsonb in the caller's
 * context and empties the scratch. A parse tree is several times the size
 * of its jsonb, and a batch of 10,000 assessments builds two per row.
 */
struct JsonbValue;
extern MemoryContext pd_jsonb_scratch_begin(void);
extern Datum pd_jsonb_scratch_finish(struct JsonbValue *value,
                                     MemoryContext caller);

/*
 * Acting as the owner of a relation, from pd_begin_as_owner to
 * pd_end_as_owner (or the end of the (sub)transaction): internal writes (the
 * ledger, the outbox) and row locks run as it, as the SECURITY DEFINER
 * triggers and the foreign key checks do. With 'sql' (statements will run
 * meanwhile) search_path is also pg_catalog, pg_temp until the end, as a
 * SECURITY DEFINER function pins it: our statements name their tables'
 * schema, but their operators and functions are looked up in the search
 * path, where the caller could put one of its own (uuid = uuid, bigint +
 * bigint) ahead of pg_catalog's and have it run as the owner. Not with
 * 'sql' in parallel mode, where no setting may change.
 */
typedef struct PdAsOwner
{
	Oid save_user;
	int save_sec;
	int guc_nestlevel; /* 0: search_path untouched */
} PdAsOwner;

extern void pd_begin_as_owner(Oid relid, bool sql, PdAsOwner *as);
extern void pd_end_as_owner(const PdAsOwner *as);

#endif
