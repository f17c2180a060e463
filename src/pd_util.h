/*
 * pd_util.h
 *    Money and calendar helpers shared by the feature engine, the label and
 *    the synthetic bank.
 */
#ifndef PD_UTIL_H
#define PD_UTIL_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/date.h"

#define PD_USECS_PER_DAY INT64CONST(86400000000)

/* numeric(14,2) Datum -> exact whole cents */
extern int64 pd_numeric_to_cents(Datum value);

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

#endif
