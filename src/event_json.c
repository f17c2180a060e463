/*
 * event_json.c
 *    Kafka payloads <-> C structs: the seed system's transaction events in,
 *    prediction and intervention events out, and the ISO-8601 times both use.
 *
 * Owns the wire format of events: what a valid transaction event is (the
 * fields, their JSON types and FEATURES.md's categories and channels), the
 * dead-letter reason of an invalid one, and the JSON the relay sends. Pure C
 * over json-c and libc: no Postgres calls, no locale, nothing global, so it
 * runs in a worker, a CLI tool or a fuzzer alike. What a valid event does to
 * the database (unknown customers, duplicates) is the ingest worker's.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "categories.h"
#include "event_json.h"
#include "json_strict.h"

#define USECS_PER_SEC INT64_C(1000000)
#define USECS_PER_DAY INT64_C(86400000000)
/* 2000-01-01, PostgreSQL's epoch, in days since 1970-01-01. */
#define PD_EPOCH_DAYS_1970 10957

#ifdef __GNUC__
#define PD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PD_PRINTF(f, a)
#endif

const char *const pd_channel_names[PD_NUM_CHANNELS] = {
    "pos", "card", "online", "upi", "netbanking", "atm", "branch", "autodebit",
};

static const char *const event_error_names[PD_EVENT_NUM_ERRORS] = {
    [PD_EVENT_OK] = "ok",
    [PD_EVENT_OVERSIZED] = "oversized",
    [PD_EVENT_MALFORMED_JSON] = "malformed_json",
    [PD_EVENT_MISSING_FIELD] = "missing_field",
    [PD_EVENT_WRONG_TYPE] = "wrong_type",
    [PD_EVENT_BAD_AMOUNT] = "bad_amount",
    [PD_EVENT_UNKNOWN_TXN_TYPE] = "unknown_txn_type",
    [PD_EVENT_UNKNOWN_CATEGORY] = "unknown_category",
    [PD_EVENT_UNKNOWN_CHANNEL] = "unknown_channel",
    [PD_EVENT_BAD_TIME] = "bad_time",
};

const char *
pd_event_error_name(PdEventError error)
{
	if ((int) error < 0 || error >= PD_EVENT_NUM_ERRORS)
		return "unknown_error";
	return event_error_names[error];
}

/* ------------------------------------------------------------------------
 * ISO-8601 times, by hand: no locale, no time zone database, no libc time
 * functions, so the same text gives the same microseconds everywhere.
 * ------------------------------------------------------------------------
 */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t year, int month, int day)
{
	int64_t era;
	int64_t yoe;
	int64_t doy;
	int64_t doe;

	year -= month <= 2;
	era = (year >= 0 ? year : year - 399) / 400;
	yoe = year - era * 400;
	doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void
civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
	int64_t era;
	int64_t doe;
	int64_t yoe;
	int64_t doy;
	int64_t mp;

	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*day = (int) (doy - (153 * mp + 2) / 5 + 1);
	*month = (int) (mp < 10 ? mp + 3 : mp - 9);
	*year = yoe + era * 400 + (*month <= 2);
}

static bool
is_leap_year(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int
days_in_month(int year, int month)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30,
	                             31, 31, 30, 31, 30, 31};

	return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads exactly n decimal digits at *p (before end) into *value. */
static bool
read_digits(const char **p, const char *end, int n, int *value)
{
	int v = 0;

	if (end - *p < n)
		return false;
	for (int i = 0; i < n; i++)
	{
		char c = (*p)[i];

		if (!is_digit(c))
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*value = v;
	return true;
}

static bool
read_char(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return false;
	(*p)++;
	return true;
}

/*
 * pd_parse_iso_time over text[len], which need not be NUL-terminated and
 * may hold a NUL (a JSON string can), which is simply not a valid character.
 *
 * Accepted: YYYY-MM-DD, then 'T', 't' or ' ', then HH:MM, optionally :SS and
 * then optionally '.' and one or more fraction digits, then optionally Z (or
 * z), +HH, +HHMM or +HH:MM (or '-'); no offset means UTC. Fraction digits
 * beyond the sixth are dropped (truncation, never rounding into the next
 * second); PostgreSQL rounds instead, so a time written with nanoseconds may
 * come out 1 microsecond earlier here than in a timestamptz cast. Ranges:
 * year 1900..9999 (of the date as written, before the offset), real month
 * days (leap years included), hour 0..23, minute 0..59, second 0..59 (no
 * leap second), offset hours 0..23 and minutes 0..59.
 */
static bool
parse_iso_time_n(const char *text, size_t len, int64_t *out)
{
	const char *p = text;
	const char *end = text + len;
	int year;
	int month;
	int day;
	int hour;
	int minute;
	int second = 0;
	int64_t usec = 0;
	int offset_secs = 0;
	int64_t days;

	if (!read_digits(&p, end, 4, &year) || !read_char(&p, end, '-') ||
	    !read_digits(&p, end, 2, &month) || !read_char(&p, end, '-') ||
	    !read_digits(&p, end, 2, &day))
		return false;
	if (p >= end || (*p != 'T' && *p != 't' && *p != ' '))
		return false;
	p++;
	if (!read_digits(&p, end, 2, &hour) || !read_char(&p, end, ':') ||
	    !read_digits(&p, end, 2, &minute))
		return false;
	if (read_char(&p, end, ':'))
	{
		if (!read_digits(&p, end, 2, &second))
			return false;
		if (read_char(&p, end, '.'))
		{
			int ndigits = 0;

			if (p >= end || !is_digit(*p))
				return false;
			for (; p < end && is_digit(*p); p++, ndigits++)
				if (ndigits < 6)
					usec = usec * 10 + (*p - '0');
			for (; ndigits < 6; ndigits++)
				usec *= 10;
		}
	}
	if (p < end && (*p == 'Z' || *p == 'z'))
		p++;
	else if (p < end && (*p == '+' || *p == '-'))
	{
		int sign = *p == '-' ? -1 : 1;
		int offset_hours;
		int offset_minutes = 0;

		p++;
		if (!read_digits(&p, end, 2, &offset_hours))
			return false;
		if (read_char(&p, end, ':'))
		{
			if (!read_digits(&p, end, 2, &offset_minutes))
				return false;
		}
		else if (p < end && is_digit(*p))
		{
			if (!read_digits(&p, end, 2, &offset_minutes))
				return false;
		}
		if (offset_hours > 23 || offset_minutes > 59)
			return false;
		offset_secs = sign * (offset_hours * 3600 + offset_minutes * 60);
	}
	if (p != end)
		return false;

	if (year < 1900 || year > 9999 || month < 1 || month > 12 || day < 1 ||
	    day > days_in_month(year, month) || hour > 23 || minute > 59 ||
	    second > 59)
		return false;

	days = days_from_civil(year, month, day) - PD_EPOCH_DAYS_1970;
	*out = (days * 86400 + hour * 3600 + minute * 60 + second - offset_secs) *
	           USECS_PER_SEC +
	       usec;
	return true;
}

bool
pd_parse_iso_time(const char *text, int64_t *out)
{
	if (text == NULL)
		return false;
	return parse_iso_time_n(text, strlen(text), out);
}

/*
 * Always "YYYY-MM-DDTHH:MM:SS.ffffffZ" (27 characters) for the years 0..9999;
 * outside them (only reachable from times pd_parse_iso_time never returns)
 * the year is printed as a plain, possibly negative, number.
 */
void
pd_format_iso_time(int64_t t, char out[32])
{
	int64_t days = t / USECS_PER_DAY;
	int64_t rem = t % USECS_PER_DAY;
	int64_t year;
	int month;
	int day;
	int64_t secs;
	char text[64];

	/* floor division without overflowing near INT64_MIN */
	if (rem < 0)
	{
		rem += USECS_PER_DAY;
		days--;
	}
	civil_from_days(days + PD_EPOCH_DAYS_1970, &year, &month, &day);
	secs = rem / USECS_PER_SEC;
	/* at most 30 characters: |year| < 300000 for any int64 t */
	snprintf(text, sizeof(text), "%0*lld-%02d-%02dT%02d:%02d:%02d.%06dZ",
	         year >= 0 ? 4 : 5, (long long) year, month, day,
	         (int) (secs / 3600), (int) (secs / 60 % 60), (int) (secs % 60),
	         (int) (rem % USECS_PER_SEC));
	memcpy(out, text, 31);
	out[31] = '\0';
}

/* ------------------------------------------------------------------------
 * Transaction events
 * ------------------------------------------------------------------------
 */

static PdEventError event_fail(PdEventError error, char *detail,
                               size_t detail_size, const char *fmt, ...)
    PD_PRINTF(4, 5);

/* The detail of a failure; returns error so that callers can return it. */
static PdEventError
event_fail(PdEventError error, char *detail, size_t detail_size,
           const char *fmt, ...)
{
	va_list args;

	if (detail != NULL && detail_size > 0)
	{
		va_start(args, fmt);
		vsnprintf(detail, detail_size, fmt, args);
		va_end(args);
	}
	return error;
}

/*
 * A bad value quoted for a detail: printable ASCII only (anything else
 * becomes '?'), at most 32 characters then "...", so that a detail is
 * always valid text of any server encoding and stays one short line.
 */
static const char *
quote_value(const char *s, size_t len, char out[48])
{
	size_t n = 0;

	out[n++] = '"';
	for (size_t i = 0; i < len && i < 32; i++)
		out[n++] = s[i] >= 0x20 && s[i] < 0x7F ? s[i] : '?';
	if (len > 32)
	{
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n++] = '"';
	out[n] = '\0';
	return out;
}

/*
 * The fields of a transaction event, read either from json-c's tree or, for
 * a flat event, straight from the payload (pd_json_strict_members): the
 * checks below see the same values either way.
 */
enum
{
	F_EVENT_TYPE,
	F_CUSTOMER_ID,
	F_TXN_TIME,
	F_AMOUNT,
	F_TXN_TYPE,
	F_CATEGORY,
	F_CHANNEL,
	F_IS_FAILED,
	F_EVENT_ID,
	F_MERCHANT_ID,
	F_EVENT_TIME,
	NUM_EVENT_FIELDS
};

static const char *const event_field_names[NUM_EVENT_FIELDS] = {
    [F_EVENT_TYPE] = "event_type", [F_CUSTOMER_ID] = "customer_id",
    [F_TXN_TIME] = "txn_time",     [F_AMOUNT] = "amount",
    [F_TXN_TYPE] = "txn_type",     [F_CATEGORY] = "category",
    [F_CHANNEL] = "channel",       [F_IS_FAILED] = "is_failed",
    [F_EVENT_ID] = "event_id",     [F_MERCHANT_ID] = "merchant_id",
    [F_EVENT_TIME] = "event_time",
};

typedef enum FieldKind
{
	FIELD_ABSENT, /* absent or JSON null */
	FIELD_STRING,
	FIELD_INT,
	FIELD_DOUBLE,
	FIELD_BOOL,
	FIELD_OTHER /* an object or an array */
} FieldKind;

typedef struct FieldValue
{
	FieldKind kind;
	const char *s; /* FIELD_STRING: the decoded text (may hold a NUL) */
	size_t len;
	int64_t i; /* FIELD_INT, saturated at int64's limits */
	/* FIELD_INT as json-c prints it, when that is not i (NULL: it is i) */
	const char *int_text;
	double d; /* FIELD_DOUBLE */
	bool b;   /* FIELD_BOOL */
} FieldValue;

/* The event's fields from json-c's tree of the payload. */
static void
fields_from_tree(json_object *root, FieldValue *fields)
{
	for (int f = 0; f < NUM_EVENT_FIELDS; f++)
	{
		FieldValue *out = &fields[f];
		json_object *v = NULL;

		memset(out, 0, sizeof(*out));
		if (!json_object_object_get_ex(root, event_field_names[f], &v) ||
		    v == NULL)
			continue;
		switch (json_object_get_type(v))
		{
			case json_type_string:
				out->kind = FIELD_STRING;
				out->s = json_object_get_string(v);
				out->len = (size_t) json_object_get_string_len(v);
				break;
			case json_type_int:
				out->kind = FIELD_INT;
				out->i = json_object_get_int64(v);
				/* json-c keeps integers past int64 as uint64, prints them so
				 */
				out->int_text = json_object_to_json_string(v);
				break;
			case json_type_double:
				out->kind = FIELD_DOUBLE;
				out->d = json_object_get_double(v);
				break;
			case json_type_boolean:
				out->kind = FIELD_BOOL;
				out->b = json_object_get_boolean(v);
				break;
			default:
				out->kind = FIELD_OTHER;
				break;
		}
	}
}

/*
 * A number's text as json-c reads it: with '.', 'e' or 'E' a double
 * (strtod), else an integer. False for what only json-c should judge:
 * integers of more than 18 digits (json-c saturates them, or keeps them
 * unsigned), doubles out of range or of 64 characters or more.
 */
static bool
read_number(const char *text, size_t len, FieldValue *out)
{
	char buf[64];
	char *end;
	size_t digits = len - (text[0] == '-');

	if (memchr(text, '.', len) == NULL && memchr(text, 'e', len) == NULL &&
	    memchr(text, 'E', len) == NULL)
	{
		int64_t value = 0;

		if (digits > 18)
			return false;
		for (size_t k = len - digits; k < len; k++)
			value = value * 10 + (text[k] - '0');
		out->kind = FIELD_INT;
		out->i = text[0] == '-' ? -value : value;
		return true;
	}
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	errno = 0;
	out->d = strtod(buf, &end);
	if (errno == ERANGE || end != buf + len)
		return false;
	out->kind = FIELD_DOUBLE;
	return true;
}

/*
 * The event's fields from where pd_json_strict_members found them; false
 * when one needs json-c (a string with escapes, an unusual number).
 */
static bool
fields_from_members(const PdJsonMember *members, FieldValue *fields)
{
	for (int f = 0; f < NUM_EVENT_FIELDS; f++)
	{
		const PdJsonMember *m = &members[f];
		FieldValue *out = &fields[f];

		memset(out, 0, sizeof(*out));
		if (!m->present)
			continue;
		switch (m->first)
		{
			case '"':
				if (m->escaped)
					return false;
				out->kind = FIELD_STRING;
				out->s = m->text;
				out->len = m->len;
				break;
			case 't':
			case 'f':
				out->kind = FIELD_BOOL;
				out->b = m->first == 't';
				break;
			case 'n':
				break; /* null: as if absent */
			case '{':
			case '[':
				out->kind = FIELD_OTHER;
				break;
			default:
				if (!read_number(m->text, m->len, out))
					return false;
				break;
		}
	}
	return true;
}

/* The index of s[len] among names[from..to), or -1. */
static int
find_name(const char *const *names, int from, int to, const char *s,
          size_t len)
{
	for (int i = from; i < to; i++)
		if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
			return i;
	return -1;
}

/*
 * A uuid as 8-4-4-4-12 hex digits (either case) or as 32 hex digits without
 * dashes; no braces, no "urn:uuid:".
 */
static bool
parse_uuid(const char *s, size_t len, uint8_t out[16])
{
	/* where each byte's two digits start, with dashes or without */
	static const uint8_t dashed[16] = {0,  2,  4,  6,  9,  11, 14, 16,
	                                   19, 21, 24, 26, 28, 30, 32, 34};
	static const uint8_t plain[16] = {0,  2,  4,  6,  8,  10, 12, 14,
	                                  16, 18, 20, 22, 24, 26, 28, 30};
	const uint8_t *at = dashed;

	if (len == 36)
	{
		if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
			return false;
	}
	else if (len == 32)
		at = plain;
	else
		return false;
	for (int i = 0; i < 16; i++)
	{
		int hi = hex_value((unsigned char) s[at[i]]);
		int lo = hex_value((unsigned char) s[at[i] + 1]);

		if ((hi | lo) < 0)
			return false;
		out[i] = (uint8_t) (hi << 4 | lo);
	}
	return true;
}

/*
 * The checks of one event, in this order, the first failure winning:
 * event_type, customer_id, txn_time, amount, txn_type, category, channel,
 * is_failed, event_id, merchant_id, event_time. event_type comes first so
 * that another kind of event on the topic is named as such.
 */
static PdEventError
validate_event(const FieldValue *fields, PdTxnEvent *event, char *detail,
               size_t detail_size)
{
	const FieldValue *v;
	const char *s;
	size_t len;
	char quoted[48];
	double amount;
	int category;

#define FAIL(error, ...)                                                      \
	return event_fail((error), detail, detail_size, __VA_ARGS__)

	/*
	 * A required string field into s and len. A string holding a NUL cannot
	 * be any valid value, nor stored in a text column.
	 */
#define REQUIRED_STRING(field)                                                \
	do                                                                        \
	{                                                                         \
		v = &fields[(field)];                                                 \
		if (v->kind == FIELD_ABSENT)                                          \
			FAIL(PD_EVENT_MISSING_FIELD, "field %s: missing or null",         \
			     event_field_names[(field)]);                                 \
		if (v->kind != FIELD_STRING)                                          \
			FAIL(PD_EVENT_WRONG_TYPE, "field %s: expected a string",          \
			     event_field_names[(field)]);                                 \
		s = v->s;                                                             \
		len = v->len;                                                         \
	} while (0)

	/* event_type: optional, but if given it must say "transaction" */
	v = &fields[F_EVENT_TYPE];
	if (v->kind != FIELD_ABSENT)
	{
		if (v->kind != FIELD_STRING)
			FAIL(PD_EVENT_WRONG_TYPE, "field event_type: expected a string");
		if (v->len != strlen("transaction") ||
		    memcmp(v->s, "transaction", v->len) != 0)
			FAIL(PD_EVENT_WRONG_TYPE,
			     "field event_type: expected \"transaction\", got %s",
			     quote_value(v->s, v->len, quoted));
	}

	REQUIRED_STRING(F_CUSTOMER_ID);
	if (!parse_uuid(s, len, event->customer_id))
		FAIL(PD_EVENT_WRONG_TYPE, "field customer_id: not a uuid: %s",
		     quote_value(s, len, quoted));

	REQUIRED_STRING(F_TXN_TIME);
	if (!parse_iso_time_n(s, len, &event->txn_time))
		FAIL(PD_EVENT_BAD_TIME,
		     "field txn_time: not an ISO-8601 time of years 1900..9999: %s",
		     quote_value(s, len, quoted));

	/*
	 * amount: a JSON number of whole cents. A double must be within
	 * rounding of a whole number of cents: 1e-6 cents, or a few units in the
	 * last place of amount * 100 where that is more (amounts near the 1e9
	 * maximum carry up to ~1e-5 cents of representation error).
	 */
	v = &fields[F_AMOUNT];
	if (v->kind == FIELD_ABSENT)
		FAIL(PD_EVENT_MISSING_FIELD, "field amount: missing or null");
	if (v->kind == FIELD_INT)
	{
		if (v->i <= 0 || v->i > PD_EVENT_MAX_AMOUNT_CENTS / 100)
		{
			char text[24];

			if (v->int_text == NULL)
				snprintf(text, sizeof(text), "%lld", (long long) v->i);
			FAIL(PD_EVENT_BAD_AMOUNT, "field amount: %s is not in (0, %lld]",
			     v->int_text ? v->int_text : text,
			     (long long) (PD_EVENT_MAX_AMOUNT_CENTS / 100));
		}
		event->amount_cents = v->i * 100;
	}
	else if (v->kind == FIELD_DOUBLE)
	{
		double cents;
		double rounded;

		amount = v->d;
		if (!isfinite(amount) || amount <= 0 ||
		    amount > (double) (PD_EVENT_MAX_AMOUNT_CENTS / 100))
			FAIL(PD_EVENT_BAD_AMOUNT,
			     "field amount: %.15g is not in (0, %lld]", amount,
			     (long long) (PD_EVENT_MAX_AMOUNT_CENTS / 100));
		cents = amount * 100;
		rounded = round(cents);
		if (fabs(cents - rounded) >= fmax(1e-6, cents * 4e-16) || rounded < 1)
			FAIL(PD_EVENT_BAD_AMOUNT,
			     "field amount: %.15g is not a whole number of cents", amount);
		event->amount_cents = llround(cents);
	}
	else
		FAIL(PD_EVENT_WRONG_TYPE, "field amount: expected a number");

	REQUIRED_STRING(F_TXN_TYPE);
	if (len == 6 && memcmp(s, "credit", 6) == 0)
		event->credit = true;
	else if (len == 5 && memcmp(s, "debit", 5) == 0)
		event->credit = false;
	else
		FAIL(PD_EVENT_UNKNOWN_TXN_TYPE,
		     "field txn_type: expected \"credit\" or \"debit\", got %s",
		     quote_value(s, len, quoted));

	REQUIRED_STRING(F_CATEGORY);
	if (event->credit)
		category =
		    find_name(pd_category_names, CAT_SALARY, NUM_CATEGORIES, s, len);
	else
		category =
		    find_name(pd_category_names, 0, NUM_DEBIT_CATEGORIES, s, len);
	if (category < 0)
		FAIL(PD_EVENT_UNKNOWN_CATEGORY,
		     "field category: %s is not a %s category",
		     quote_value(s, len, quoted), event->credit ? "credit" : "debit");
	event->category = category;

	REQUIRED_STRING(F_CHANNEL);
	event->channel = find_name(pd_channel_names, 0, PD_NUM_CHANNELS, s, len);
	if (event->channel < 0)
		FAIL(PD_EVENT_UNKNOWN_CHANNEL, "field channel: unknown channel %s",
		     quote_value(s, len, quoted));

	/* is_failed: absent or null is false, like the column's default */
	v = &fields[F_IS_FAILED];
	if (v->kind != FIELD_ABSENT)
	{
		if (v->kind != FIELD_BOOL)
			FAIL(PD_EVENT_WRONG_TYPE, "field is_failed: expected a boolean");
		event->is_failed = v->b;
	}

	/* event_id: optional; absent or null leaves the id to the worker */
	v = &fields[F_EVENT_ID];
	if (v->kind != FIELD_ABSENT)
	{
		if (v->kind != FIELD_STRING)
			FAIL(PD_EVENT_WRONG_TYPE, "field event_id: expected a string");
		if (!parse_uuid(v->s, v->len, event->event_id))
			FAIL(PD_EVENT_WRONG_TYPE, "field event_id: not a uuid: %s",
			     quote_value(v->s, v->len, quoted));
		event->has_event_id = true;
	}

	/* merchant_id: optional; "" is null (the column is never '') */
	v = &fields[F_MERCHANT_ID];
	if (v->kind != FIELD_ABSENT)
	{
		if (v->kind != FIELD_STRING)
			FAIL(PD_EVENT_WRONG_TYPE, "field merchant_id: expected a string");
		if (v->len > PD_MERCHANT_MAX)
			FAIL(PD_EVENT_WRONG_TYPE,
			     "field merchant_id: %zu bytes, at most %d allowed", v->len,
			     PD_MERCHANT_MAX);
		if (memchr(v->s, '\0', v->len) != NULL)
			FAIL(PD_EVENT_WRONG_TYPE, "field merchant_id: contains \\u0000");
		if (v->len > 0)
		{
			memcpy(event->merchant_id, v->s, v->len);
			event->merchant_id[v->len] = '\0';
			event->has_merchant = true;
		}
	}

	/* event_time: optional */
	v = &fields[F_EVENT_TIME];
	if (v->kind != FIELD_ABSENT)
	{
		if (v->kind != FIELD_STRING)
			FAIL(PD_EVENT_WRONG_TYPE, "field event_time: expected a string");
		if (!parse_iso_time_n(v->s, v->len, &event->event_time))
			FAIL(PD_EVENT_BAD_TIME,
			     "field event_time: not an ISO-8601 time of years "
			     "1900..9999: %s",
			     quote_value(v->s, v->len, quoted));
		event->has_event_time = true;
	}

#undef REQUIRED_STRING
#undef FAIL
	return PD_EVENT_OK;
}

/*
 * On failure *event holds whatever the checks before the failing one filled
 * in; callers use only the reason and the detail. The detail is printable
 * ASCII (bad values are quoted through quote_value), never longer than
 * detail_size - 1; detail may be NULL. On success the detail is "".
 *
 * Memory: json-c's tokener and tree live only inside this call; nothing is
 * kept between calls, so concurrent calls from several threads are safe.
 * An allocation failure inside json-c is reported as malformed_json with a
 * detail saying so (replay_dead_letters can retry such an event).
 */
/* The payload's tree from json-c, and the checks over it. */
static PdEventError
parse_with_json_c(const char *payload, size_t len, PdTxnEvent *event,
                  char *detail, size_t detail_size)
{
	struct json_tokener *tok;
	json_object *root;
	enum json_tokener_error jerr;
	size_t parse_end;
	FieldValue fields[NUM_EVENT_FIELDS];
	PdEventError result;

	tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
	if (tok == NULL)
		return event_fail(PD_EVENT_MALFORMED_JSON, detail, detail_size,
		                  "out of memory creating a JSON parser");
	json_tokener_set_flags(tok,
	                       JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, payload, (int) len);
	jerr = json_tokener_get_error(tok);
	parse_end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);

	/*
	 * After strict_json this should only be json-c running out of memory,
	 * but whatever json-c refuses is malformed too.
	 */
	if (root == NULL || jerr != json_tokener_success || parse_end != len ||
	    !json_object_is_type(root, json_type_object))
	{
		json_object_put(root);
		return event_fail(PD_EVENT_MALFORMED_JSON, detail, detail_size,
		                  "json-c failed at byte %zu: %s", parse_end,
		                  json_tokener_error_desc(jerr));
	}

	/* the fields point into the tree: checked before it is freed */
	fields_from_tree(root, fields);
	result = validate_event(fields, event, detail, detail_size);
	json_object_put(root);
	return result;
}

/*
 * The strict check, then the fields straight from the payload when they
 * can be read there (the seed's events: a flat object of plain strings,
 * numbers and booleans; a third of the ingest worker's parsing time went to
 * building json-c's tree of them), else from json-c's tree.
 */
static PdEventError
parse_txn_event(const char *payload, size_t len, PdTxnEvent *event,
                char *detail, size_t detail_size, bool from_payload)
{
	PdJsonMember members[NUM_EVENT_FIELDS];
	FieldValue fields[NUM_EVENT_FIELDS];
	bool unescaped_names;
	size_t error_offset;
	size_t first;
	const char *why;

	memset(event, 0, sizeof(*event));
	if (detail != NULL && detail_size > 0)
		detail[0] = '\0';

	if (len > PD_EVENT_MAX_BYTES)
		return event_fail(PD_EVENT_OVERSIZED, detail, detail_size,
		                  "payload of %zu bytes, at most %d allowed", len,
		                  PD_EVENT_MAX_BYTES);
	if (payload == NULL || len == 0)
		return event_fail(PD_EVENT_MALFORMED_JSON, detail, detail_size,
		                  "empty payload");
	if (!pd_json_strict_members(payload, len, event_field_names,
	                            NUM_EVENT_FIELDS, members, &unescaped_names,
	                            &error_offset, &why))
		return event_fail(PD_EVENT_MALFORMED_JSON, detail, detail_size,
		                  "invalid JSON at byte %zu: %s", error_offset, why);
	for (first = 0; first < len && is_json_space(payload[first]); first++)
		;
	if (payload[first] != '{')
		return event_fail(PD_EVENT_MALFORMED_JSON, detail, detail_size,
		                  "the JSON value is not an object");
	if (from_payload && unescaped_names &&
	    fields_from_members(members, fields))
		return validate_event(fields, event, detail, detail_size);
	return parse_with_json_c(payload, len, event, detail, detail_size);
}

PdEventError
pd_parse_txn_event(const char *payload, size_t len, PdTxnEvent *event,
                   char *detail, size_t detail_size)
{
	return parse_txn_event(payload, len, event, detail, detail_size, true);
}

PdEventError
pd_parse_txn_event_json_c(const char *payload, size_t len, PdTxnEvent *event,
                          char *detail, size_t detail_size)
{
	return parse_txn_event(payload, len, event, detail, detail_size, false);
}

/* ------------------------------------------------------------------------
 * Prediction and intervention events
 * ------------------------------------------------------------------------
 */

/*
 * The builders below take the call's bool *ok and clear it when json-c runs
 * out of memory, so that an event is whole or not made at all (never one
 * with a field silently turned null).
 */

/* A string, or JSON null (NULL) for NULL. */
static json_object *
new_string(const char *s, bool *ok)
{
	json_object *v;

	if (s == NULL)
		return NULL;
	v = json_object_new_string(s);
	if (v == NULL)
		*ok = false;
	return v;
}

/*
 * A number in its shortest form that reads back as the same double ("0.73",
 * not json-c's "0.72999999999999998"), always with a '.' or an exponent so
 * that readers keep it a float; NaN and infinities, which JSON cannot say,
 * become null. The decimal point is fixed up in case LC_NUMERIC is not "C"
 * (PostgreSQL keeps it "C"; a tool may not).
 */
static json_object *
new_double(double d, bool *ok)
{
	char text[40];
	char *comma;
	json_object *v;

	if (!isfinite(d))
		return NULL;
	for (int precision = 15; precision <= 17; precision++)
	{
		snprintf(text, sizeof(text), "%.*g", precision, d);
		if (strtod(text, NULL) == d)
			break;
	}
	if ((comma = strchr(text, ',')) != NULL)
		*comma = '.';
	if (strpbrk(text, ".eE") == NULL)
		strcat(text, ".0");
	v = json_object_new_double_s(d, text);
	if (v == NULL)
		*ok = false;
	return v;
}

static json_object *
new_int(int i, bool *ok)
{
	json_object *v = json_object_new_int(i);

	if (v == NULL)
		*ok = false;
	return v;
}

/* The ISO string of a time in microseconds since 2000. */
static json_object *
new_time(int64_t t, bool *ok)
{
	char text[32];

	pd_format_iso_time(t, text);
	return new_string(text, ok);
}

/* obj[key] = value, taking value over (and freeing it if that fails). */
static void
add_field(json_object *obj, const char *key, json_object *value, bool *ok)
{
	if (json_object_object_add(obj, key, value) != 0)
	{
		json_object_put(value);
		*ok = false;
	}
}

static void
add_element(json_object *array, json_object *value, bool *ok)
{
	if (json_object_array_add(array, value) != 0)
	{
		json_object_put(value);
		*ok = false;
	}
}

/* The serialized object, malloc'd, or NULL if !ok; frees the object. */
static char *
finish_json(json_object *obj, bool ok)
{
	char *result = NULL;
	const char *text;

	if (ok)
	{
		text = json_object_to_json_string_ext(
		    obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		if (text != NULL)
			result = strdup(text);
	}
	json_object_put(obj);
	return result;
}

/*
 * NULL strings become JSON null, non-finite numbers too; strings are taken
 * as UTF-8 (the caller's, e.g. a UTF8 database's text) and escaped by
 * json-c. Returns NULL only when out of memory.
 */
char *
pd_prediction_event_json(const char *event_id, const char *customer_id,
                         double risk_score, const char *risk_level,
                         const PdTopFeature *top, int n_top, int model_id,
                         int64_t timestamp, int64_t event_time)
{
	bool ok = true;
	json_object *obj = json_object_new_object();
	json_object *features;

	if (obj == NULL)
		return NULL;
	features = json_object_new_array();
	if (features == NULL)
		ok = false;
	for (int i = 0; ok && top != NULL && i < n_top; i++)
	{
		json_object *f = json_object_new_object();

		if (f == NULL)
		{
			ok = false;
			break;
		}
		add_field(f, "feature", new_string(top[i].feature, &ok), &ok);
		add_field(f, "value", new_double(top[i].value, &ok), &ok);
		add_field(f, "contribution", new_double(top[i].contribution, &ok),
		          &ok);
		add_element(features, f, &ok);
	}
	add_field(obj, "event_id", new_string(event_id, &ok), &ok);
	add_field(obj, "customer_id", new_string(customer_id, &ok), &ok);
	add_field(obj, "risk_score", new_double(risk_score, &ok), &ok);
	add_field(obj, "risk_level", new_string(risk_level, &ok), &ok);
	add_field(obj, "top_features", features, &ok);
	add_field(obj, "model_id", new_int(model_id, &ok), &ok);
	add_field(obj, "timestamp", new_time(timestamp, &ok), &ok);
	add_field(obj, "event_time", new_time(event_time, &ok), &ok);
	add_field(obj, "event_type", new_string("prediction", &ok), &ok);
	return finish_json(obj, ok);
}

char *
pd_intervention_event_json(const char *intervention_id,
                           const char *customer_id, double risk_score,
                           const char *risk_level,
                           const char *intervention_type, const char *message,
                           const char *channel, int priority,
                           const char *const *factors, int n_factors,
                           int64_t timestamp)
{
	bool ok = true;
	json_object *obj = json_object_new_object();
	json_object *list;

	if (obj == NULL)
		return NULL;
	list = json_object_new_array();
	if (list == NULL)
		ok = false;
	for (int i = 0; ok && factors != NULL && i < n_factors; i++)
		add_element(list, new_string(factors[i], &ok), &ok);
	add_field(obj, "intervention_id", new_string(intervention_id, &ok), &ok);
	add_field(obj, "customer_id", new_string(customer_id, &ok), &ok);
	add_field(obj, "risk_score", new_double(risk_score, &ok), &ok);
	add_field(obj, "risk_level", new_string(risk_level, &ok), &ok);
	add_field(obj, "intervention_type", new_string(intervention_type, &ok),
	          &ok);
	add_field(obj, "message", new_string(message, &ok), &ok);
	add_field(obj, "channel", new_string(channel, &ok), &ok);
	add_field(obj, "priority", new_int(priority, &ok), &ok);
	add_field(obj, "top_risk_factors", list, &ok);
	add_field(obj, "timestamp", new_time(timestamp, &ok), &ok);
	add_field(obj, "status", new_string("triggered", &ok), &ok);
	add_field(obj, "event_type", new_string("intervention", &ok), &ok);
	return finish_json(obj, ok);
}
