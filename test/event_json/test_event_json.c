/*
 * test_event_json.c
 *    Standalone unit test of src/event_json.c: transaction event parsing and
 *    its dead-letter reasons, ISO-8601 times, prediction and intervention
 *    events. No Postgres server; run through test/event_json/run.sh.
 *
 * Prints "check <name> ok|FAILED" per check (what failed goes to stderr)
 * and exits non-zero if any check failed.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../../src/categories.h"
#include "../../src/event_json.h"
#include "../../src/json_strict.h"

static int check_errors;  /* failed expectations in the running check */
static int failed_checks; /* checks with at least one */

#define EXPECT(cond, ...)                                                     \
	do                                                                        \
	{                                                                         \
		if (!(cond))                                                          \
			expect_failed(__LINE__, __VA_ARGS__);                             \
	} while (0)

static void expect_failed(int line, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
expect_failed(int line, const char *fmt, ...)
{
	va_list args;

	/* the first few of a check say enough */
	if (check_errors++ >= 10)
		return;
	fprintf(stderr, "  line %d: ", line);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputc('\n', stderr);
}

/*
 * Every parse in this file runs both of the parser's paths: the one that
 * reads flat events straight from the payload and the one through json-c's
 * tree. They must agree on the reason, the detail and, for a valid event,
 * every field; check paths_agree reports the payloads where they did not.
 */
static long paths_compared;
static long paths_disagreed;

static PdEventError
parse_both_paths(const char *payload, size_t len, PdTxnEvent *event,
                 char *detail, size_t detail_size)
{
	PdTxnEvent reference;
	char reference_detail[256];
	char fast_detail[256];
	PdEventError want = pd_parse_txn_event_json_c(
	    payload, len, &reference, reference_detail, sizeof(reference_detail));
	PdEventError got = pd_parse_txn_event(payload, len, event, fast_detail,
	                                      sizeof(fast_detail));

	paths_compared++;
	if (got != want || strcmp(fast_detail, reference_detail) != 0 ||
	    (got == PD_EVENT_OK &&
	     memcmp(event, &reference, sizeof(reference)) != 0))
	{
		if (paths_disagreed++ < 10)
			fprintf(stderr,
			        "  paths disagree on %.*s: %s (%s) against json-c's %s "
			        "(%s)\n",
			        payload ? (int) (len < 80 ? len : 80) : 6,
			        payload ? payload : "(null)", pd_event_error_name(got),
			        fast_detail, pd_event_error_name(want), reference_detail);
	}
	/* the caller's own detail buffer, as it asked for it */
	return pd_parse_txn_event(payload, len, event, detail, detail_size);
}

#define pd_parse_txn_event parse_both_paths

static void
check_paths_agree(void)
{
	EXPECT(paths_compared > 1000 && paths_disagreed == 0,
	       "%ld of %ld payloads parsed differently", paths_disagreed,
	       paths_compared);
}

static void
run_check(const char *name, void (*check)(void))
{
	check_errors = 0;
	check();
	printf("check %s %s\n", name, check_errors == 0 ? "ok" : "FAILED");
	fflush(stdout);
	if (check_errors > 0)
		failed_checks++;
}

/* A fixed-seed PRNG (splitmix64): the same cases on every run. */
static uint64_t rng_state = UINT64_C(0x243F6A8885A308D3);

static uint64_t
rng_next(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* ------------------------------------------------------------------------
 * Building events: the seed's event (as Python's json.dumps writes it) with
 * one field replaced, removed or added.
 * ------------------------------------------------------------------------
 */

typedef struct Field
{
	const char *key;
	const char *raw; /* the JSON text of the value */
} Field;

static const Field seed_fields[] = {
    {"event_id", "\"0b9f6a1e-3c2d-4e5f-8a7b-112233445566\""},
    {"customer_id", "\"5f0c8a2e-91b4-4d3c-a7e6-0123456789ab\""},
    {"txn_time", "\"2024-05-01T12:34:56.123456\""},
    {"amount", "1523.5"},
    {"txn_type", "\"debit\""},
    {"category", "\"groceries\""},
    {"channel", "\"upi\""},
    {"merchant_id", "\"MERCH_0042\""},
    {"is_failed", "false"},
    {"event_time", "\"2024-05-01T12:34:56.200000+05:30\""},
    {"event_type", "\"transaction\""},
};
#define N_SEED_FIELDS ((int) (sizeof(seed_fields) / sizeof(seed_fields[0])))

static const uint8_t seed_customer[16] = {0x5f, 0x0c, 0x8a, 0x2e, 0x91, 0xb4,
                                          0x4d, 0x3c, 0xa7, 0xe6, 0x01, 0x23,
                                          0x45, 0x67, 0x89, 0xab};
static const uint8_t seed_event_id[16] = {0x0b, 0x9f, 0x6a, 0x1e, 0x3c, 0x2d,
                                          0x4e, 0x5f, 0x8a, 0x7b, 0x11, 0x22,
                                          0x33, 0x44, 0x55, 0x66};
#define USECS_PER_SEC_TEST INT64_C(1000000)
#define SEED_TXN_TIME      INT64_C(767882096123456)
#define SEED_EVENT_TIME    INT64_C(767862296200000)

/*
 * The seed event with up to two fields changed: raw NULL removes the field,
 * a key the event lacks is appended. Returns a static buffer.
 */
static const char *
event_with2(const char *key1, const char *raw1, const char *key2,
            const char *raw2)
{
	static char buf[8192];
	size_t n = 0;
	bool done1 = key1 == NULL;
	bool done2 = key2 == NULL;

	buf[n++] = '{';
	for (int i = 0; i < N_SEED_FIELDS + 2; i++)
	{
		const char *key;
		const char *raw;

		if (i < N_SEED_FIELDS)
		{
			key = seed_fields[i].key;
			raw = seed_fields[i].raw;
			if (key1 != NULL && strcmp(key, key1) == 0)
			{
				raw = raw1;
				done1 = true;
			}
			else if (key2 != NULL && strcmp(key, key2) == 0)
			{
				raw = raw2;
				done2 = true;
			}
		}
		else if (i == N_SEED_FIELDS && !done1)
		{
			key = key1;
			raw = raw1;
		}
		else if (i == N_SEED_FIELDS + 1 && !done2)
		{
			key = key2;
			raw = raw2;
		}
		else
			continue;
		if (raw == NULL)
			continue;
		n += (size_t) snprintf(buf + n, sizeof(buf) - n, "%s\"%s\": %s",
		                       n > 1 ? ", " : "", key, raw);
		if (n >= sizeof(buf) - 2)
		{
			fprintf(stderr, "event_with: event too long\n");
			exit(2);
		}
	}
	snprintf(buf + n, sizeof(buf) - n, "}");
	return buf;
}

static const char *
event_with(const char *key, const char *raw)
{
	return event_with2(key, raw, NULL, NULL);
}

static PdEventError
parse(const char *json, PdTxnEvent *event, char *detail, size_t detail_size)
{
	return pd_parse_txn_event(json, strlen(json), event, detail, detail_size);
}

static bool
printable_ascii(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7E)
			return false;
	return true;
}

/*
 * One payload that must fail with want, with a detail that is printable,
 * non-empty and contains mention (when given).
 */
static void
expect_error_at(int line, const char *json, size_t len, PdEventError want,
                const char *mention)
{
	PdTxnEvent event;
	char detail[256];
	PdEventError got =
	    pd_parse_txn_event(json, len, &event, detail, sizeof(detail));

	if (got != want)
		expect_failed(line, "%.120s: got %s (%s), want %s", json,
		              pd_event_error_name(got), detail,
		              pd_event_error_name(want));
	else if (detail[0] == '\0' || !printable_ascii(detail) ||
	         (mention != NULL && strstr(detail, mention) == NULL))
		expect_failed(line, "%.120s: detail \"%s\" should mention \"%s\"",
		              json, detail, mention ? mention : "");
}

#define EXPECT_ERROR(json, want, mention)                                     \
	expect_error_at(__LINE__, (json), strlen(json), (want), (mention))

/* ------------------------------------------------------------------------
 * Valid events
 * ------------------------------------------------------------------------
 */

static void
check_seed_event(void)
{
	PdTxnEvent e;
	char detail[128] = "untouched";
	PdEventError err =
	    parse(event_with(NULL, NULL), &e, detail, sizeof(detail));

	EXPECT(err == PD_EVENT_OK, "seed event: %s (%s)", pd_event_error_name(err),
	       detail);
	EXPECT(detail[0] == '\0', "detail on success: \"%s\"", detail);
	EXPECT(e.has_event_id && memcmp(e.event_id, seed_event_id, 16) == 0,
	       "event_id");
	EXPECT(memcmp(e.customer_id, seed_customer, 16) == 0, "customer_id");
	EXPECT(e.txn_time == SEED_TXN_TIME, "txn_time %lld",
	       (long long) e.txn_time);
	EXPECT(e.amount_cents == 152350, "amount_cents %lld",
	       (long long) e.amount_cents);
	EXPECT(!e.credit, "credit");
	EXPECT(e.category == CAT_GROCERIES, "category %d", e.category);
	EXPECT(e.channel == 3 && strcmp(pd_channel_names[e.channel], "upi") == 0,
	       "channel %d", e.channel);
	EXPECT(e.has_merchant && strcmp(e.merchant_id, "MERCH_0042") == 0,
	       "merchant_id");
	EXPECT(!e.is_failed, "is_failed");
	EXPECT(e.has_event_time && e.event_time == SEED_EVENT_TIME,
	       "event_time %lld", (long long) e.event_time);
}

static void
check_seed_event_variants(void)
{
	PdTxnEvent e;
	PdEventError err;

	/* no event_id, merchant null, no event_time, event_type absent */
	err = parse(event_with2("event_id", NULL, "merchant_id", "null"), &e, NULL,
	            0);
	EXPECT(err == PD_EVENT_OK && !e.has_event_id && !e.has_merchant &&
	           e.merchant_id[0] == '\0',
	       "no event_id, merchant null: %s", pd_event_error_name(err));
	err = parse(event_with2("event_id", "null", "merchant_id", "\"\""), &e,
	            NULL, 0);
	EXPECT(err == PD_EVENT_OK && !e.has_event_id && !e.has_merchant,
	       "event_id null, merchant \"\": %s", pd_event_error_name(err));
	err = parse(event_with2("event_time", NULL, "event_type", NULL), &e, NULL,
	            0);
	EXPECT(err == PD_EVENT_OK && !e.has_event_time,
	       "no event_time/event_type: %s", pd_event_error_name(err));
	err = parse(event_with("event_type", "null"), &e, NULL, 0);
	EXPECT(err == PD_EVENT_OK, "event_type null: %s",
	       pd_event_error_name(err));

	/* is_failed: absent or null is false */
	err = parse(event_with("is_failed", NULL), &e, NULL, 0);
	EXPECT(err == PD_EVENT_OK && !e.is_failed, "no is_failed");
	err = parse(event_with("is_failed", "null"), &e, NULL, 0);
	EXPECT(err == PD_EVENT_OK && !e.is_failed, "is_failed null");
	err = parse(event_with("is_failed", "true"), &e, NULL, 0);
	EXPECT(err == PD_EVENT_OK && e.is_failed, "is_failed true");

	/* uuids: upper case, no dashes */
	err = parse(
	    event_with2("customer_id", "\"5F0C8A2E-91B4-4D3C-A7E6-0123456789AB\"",
	                "event_id", "\"0b9f6a1e3c2d4e5f8a7b112233445566\""),
	    &e, NULL, 0);
	EXPECT(err == PD_EVENT_OK &&
	           memcmp(e.customer_id, seed_customer, 16) == 0 &&
	           memcmp(e.event_id, seed_event_id, 16) == 0,
	       "uuid forms: %s", pd_event_error_name(err));

	/* times: Z, offsets, no fraction, space separator, no seconds */
	err = parse(event_with("txn_time", "\"2024-05-01T12:34:56.123456Z\""), &e,
	            NULL, 0);
	EXPECT(err == PD_EVENT_OK && e.txn_time == SEED_TXN_TIME, "txn_time Z");
	err = parse(event_with("txn_time", "\"2024-05-01 14:34:56.123456+02\""),
	            &e, NULL, 0);
	EXPECT(err == PD_EVENT_OK && e.txn_time == SEED_TXN_TIME, "txn_time +02");
	err = parse(event_with("txn_time", "\"2024-05-01T07:04:56.123456-0530\""),
	            &e, NULL, 0);
	EXPECT(err == PD_EVENT_OK && e.txn_time == SEED_TXN_TIME,
	       "txn_time -0530");
	err = parse(event_with("txn_time", "\"2024-05-01T12:34\""), &e, NULL, 0);
	EXPECT(err == PD_EVENT_OK && e.txn_time == SEED_TXN_TIME - 56123456,
	       "txn_time without seconds");

	/* a credit, every category and channel */
	for (int c = 0; c < NUM_CATEGORIES; c++)
	{
		char raw[64];

		snprintf(raw, sizeof(raw), "\"%s\"", pd_category_names[c]);
		err = parse(event_with2("txn_type",
		                        CAT_IS_CREDIT(c) ? "\"credit\"" : "\"debit\"",
		                        "category", raw),
		            &e, NULL, 0);
		EXPECT(err == PD_EVENT_OK && e.category == c &&
		           e.credit == CAT_IS_CREDIT(c),
		       "category %s: %s", pd_category_names[c],
		       pd_event_error_name(err));
	}
	for (int c = 0; c < PD_NUM_CHANNELS; c++)
	{
		char raw[64];

		snprintf(raw, sizeof(raw), "\"%s\"", pd_channel_names[c]);
		err = parse(event_with("channel", raw), &e, NULL, 0);
		EXPECT(err == PD_EVENT_OK && e.channel == c, "channel %s: %s",
		       pd_channel_names[c], pd_event_error_name(err));
	}

	/* merchant_id of exactly PD_MERCHANT_MAX bytes, UTF-8 */
	{
		char raw[PD_MERCHANT_MAX + 3];

		memset(raw, 'm', sizeof(raw));
		raw[0] = '"';
		raw[PD_MERCHANT_MAX + 1] = '"';
		raw[PD_MERCHANT_MAX + 2] = '\0';
		err = parse(event_with("merchant_id", raw), &e, NULL, 0);
		EXPECT(err == PD_EVENT_OK && strlen(e.merchant_id) == PD_MERCHANT_MAX,
		       "merchant of %d bytes: %s", PD_MERCHANT_MAX,
		       pd_event_error_name(err));
		err = parse(event_with("merchant_id", "\"Caf\\u00e9 \xc3\xa9/\\n\""),
		            &e, NULL, 0);
		EXPECT(err == PD_EVENT_OK &&
		           strcmp(e.merchant_id, "Caf\xc3\xa9 \xc3\xa9/\n") == 0,
		       "merchant with escapes and UTF-8: %s",
		       pd_event_error_name(err));
	}

	/* compact JSON, surrounding white space, unknown fields of all kinds */
	{
		const char *compact =
		    " \r\n\t{\"customer_id\":\"5f0c8a2e-91b4-4d3c-a7e6-0123456789ab\","
		    "\"txn_time\":\"2024-05-01T12:34:56.123456\",\"amount\":19.99,"
		    "\"txn_type\":\"credit\",\"category\":\"salary\","
		    "\"channel\":\"netbanking\",\"extra\":{\"a\":[1,2.5e-3,\"x\","
		    "null,true,false,{}]},\"n\":-0.0E+0} \n";

		err = parse(compact, &e, NULL, 0);
		EXPECT(err == PD_EVENT_OK && e.amount_cents == 1999 && e.credit &&
		           e.category == CAT_SALARY && !e.has_event_id &&
		           !e.has_merchant && !e.is_failed && !e.has_event_time,
		       "compact event: %s", pd_event_error_name(err));
	}
}

/* Amounts: integers and doubles, the tolerance near the maximum. */
static void
check_amounts(void)
{
	static const struct
	{
		const char *raw;
		int64_t cents;
	} good[] = {
	    {"19.99", 1999},
	    {"0.01", 1},
	    {"0.1", 10},
	    {"1", 100},
	    {"1.0", 100},
	    {"100.00", 10000},
	    {"1.5e2", 15000},
	    {"1999E-2", 1999},
	    {"1000000000", INT64_C(100000000000)},
	    {"1000000000.00", INT64_C(100000000000)},
	    {"999999999.99", INT64_C(99999999999)},
	    {"123456789.01", INT64_C(12345678901)},
	    {"0.29", 29},
	    {"1.005", -1}, /* -1: bad_amount */
	    {"19.999", -1},
	    {"0.001", -1},
	    {"0.004", -1},
	    {"0.005", -1},
	    {"1e-9", -1},
	    {"0", -1},
	    {"0.0", -1},
	    {"-0", -1},
	    {"-0.0", -1},
	    {"-5", -1},
	    {"-19.99", -1},
	    {"1000000000.01", -1},
	    {"1000000001", -1},
	    {"1e10", -1},
	    {"1e308", -1},
	    {"1e400", -1},
	    {"-1e400", -1},
	    {"99999999999999999999999", -1},
	    {"-99999999999999999999999", -1},
	    {"18446744073709551615", -1},
	    {"9223372036854775807", -1},
	    {"123456789012345678901234567890.5", -1},
	};
	PdTxnEvent e;
	PdEventError err;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
	{
		err = parse(event_with("amount", good[i].raw), &e, NULL, 0);
		if (good[i].cents < 0)
			EXPECT_ERROR(event_with("amount", good[i].raw),
			             PD_EVENT_BAD_AMOUNT, "amount");
		else
			EXPECT(err == PD_EVENT_OK && e.amount_cents == good[i].cents,
			       "amount %s: %s, %lld cents", good[i].raw,
			       pd_event_error_name(err), (long long) e.amount_cents);
	}

	/*
	 * Every whole-cents amount written with 2 decimals, as Python or
	 * Postgres print one, is accepted exactly across the whole range; with
	 * a third non-zero decimal it is not.
	 */
	for (int i = 0; i < 20000; i++)
	{
		int64_t cents;
		char raw[64];

		switch (i % 4)
		{
			case 0:
				cents = 1 + (int64_t) (rng_next() % 100000);
				break;
			case 1:
				cents = 1 + (int64_t) (rng_next() % INT64_C(100000000000));
				break;
			case 2:
				cents =
				    INT64_C(100000000000) - (int64_t) (rng_next() % 100000);
				break;
			default:
				cents = 1 + (int64_t) (rng_next() % INT64_C(1000000000));
				break;
		}
		snprintf(raw, sizeof(raw), "%lld.%02lld", (long long) (cents / 100),
		         (long long) (cents % 100));
		err = parse(event_with("amount", raw), &e, NULL, 0);
		EXPECT(err == PD_EVENT_OK && e.amount_cents == cents,
		       "amount %s: %s, %lld cents", raw, pd_event_error_name(err),
		       (long long) e.amount_cents);
		if (cents < INT64_C(100000000000))
		{
			snprintf(raw, sizeof(raw), "%lld.%02lld%d",
			         (long long) (cents / 100), (long long) (cents % 100),
			         1 + (int) (rng_next() % 9));
			err = parse(event_with("amount", raw), &e, NULL, 0);
			EXPECT(err == PD_EVENT_BAD_AMOUNT, "amount %s: %s", raw,
			       pd_event_error_name(err));
		}
	}
}

/* ------------------------------------------------------------------------
 * Every dead-letter reason
 * ------------------------------------------------------------------------
 */

static void
check_oversized(void)
{
	size_t big = 10 * 1024 * 1024;
	char *payload = malloc(big);
	PdTxnEvent e;
	char detail[128];
	PdEventError err;

	EXPECT(payload != NULL, "malloc");
	if (payload == NULL)
		return;
	/* a 10 MB valid-looking object: never parsed */
	memset(payload, ' ', big);
	payload[0] = '{';
	payload[big - 1] = '}';
	err = pd_parse_txn_event(payload, big, &e, detail, sizeof(detail));
	EXPECT(err == PD_EVENT_OVERSIZED, "10 MB: %s", pd_event_error_name(err));
	EXPECT(strstr(detail, "10485760") != NULL, "detail \"%s\"", detail);

	/* the limit itself: one byte over is oversized, at it is parsed */
	err = pd_parse_txn_event(payload, PD_EVENT_MAX_BYTES + 1, &e, NULL, 0);
	EXPECT(err == PD_EVENT_OVERSIZED, "max + 1: %s", pd_event_error_name(err));
	{
		const char *ev = event_with(NULL, NULL);
		size_t n = strlen(ev);

		/* the seed event padded with white space to exactly the limit */
		memcpy(payload, ev, n);
		memset(payload + n, ' ', PD_EVENT_MAX_BYTES - n);
		err = pd_parse_txn_event(payload, PD_EVENT_MAX_BYTES, &e, NULL, 0);
		EXPECT(err == PD_EVENT_OK, "padded to the limit: %s",
		       pd_event_error_name(err));
	}
	free(payload);
}

static void
check_malformed(void)
{
	static const char *const bad[] = {
	    "",
	    " ",
	    "not json",
	    "null",
	    "1",
	    "\"a string\"",
	    "[]",
	    "[{\"customer_id\": \"x\"}]",
	    "{",
	    "}",
	    "{\"a\"}",
	    "{\"a\":}",
	    "{\"a\":1,}",
	    "{,}",
	    "{\"a\":1}}",
	    "{\"a\":1} x",
	    "{\"a\":1}{\"b\":2}",
	    "{\"a\":1}\n\n{\"b\":2}",
	    "{'a':1}",
	    "{a:1}",
	    "{\"a\":NaN}",
	    "{\"a\":Infinity}",
	    "{\"a\":-Infinity}",
	    "{\"a\":nan}",
	    "{\"a\":01}",
	    "{\"a\":1.}",
	    "{\"a\":.5}",
	    "{\"a\":+1}",
	    "{\"a\":1e}",
	    "{\"a\":-}",
	    "{\"a\":0x10}",
	    "{\"a\":TRUE}",
	    "{\"a\":tru}",
	    "{\"a\":\"tab\there\"}",
	    "{\"a\":\"new\nline\"}",
	    "{\"a\":\"\\x41\"}",
	    "{\"a\":\"\\u12\"}",
	    "{\"a\":\"\\ud800\"}",
	    "{\"a\":\"\\udc00\"}",
	    "{\"a\":\"\\ud800\\u0041\"}",
	    "{\"a\":\"\xff\"}",
	    "{\"a\":\"\xc0\xaf\"}",         /* overlong '/' */
	    "{\"a\":\"\xed\xa0\x80\"}",     /* UTF-8 surrogate */
	    "{\"a\":\"\xf4\x90\x80\x80\"}", /* above U+10FFFF */
	    "{\"a\":\"\xe2\x82\"}",         /* cut sequence */
	    "\xef\xbb\xbf{\"a\":1}",        /* byte order mark */
	    "/* comment */{\"a\":1}",
	    "{\"a\":1 // comment\n}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_ERROR(bad[i], PD_EVENT_MALFORMED_JSON, NULL);
	/* an embedded NUL (strlen would stop before it) */
	expect_error_at(__LINE__, "{\"a\":1}\0", 8, PD_EVENT_MALFORMED_JSON,
	                "byte 7");
	expect_error_at(__LINE__, "{\"a\":\0}", 7, PD_EVENT_MALFORMED_JSON,
	                "byte 5");
	/* NULL payload */
	expect_error_at(__LINE__, NULL, 0, PD_EVENT_MALFORMED_JSON, "empty");
	/* the detail says where */
	EXPECT_ERROR("{\"amount\": 1,, }", PD_EVENT_MALFORMED_JSON, "byte 13");
}

static void
check_missing_field(void)
{
	static const char *const required[] = {"customer_id", "txn_time",
	                                       "amount",      "txn_type",
	                                       "category",    "channel"};

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
	{
		EXPECT_ERROR(event_with(required[i], NULL), PD_EVENT_MISSING_FIELD,
		             required[i]);
		EXPECT_ERROR(event_with(required[i], "null"), PD_EVENT_MISSING_FIELD,
		             required[i]);
	}
	EXPECT_ERROR("{}", PD_EVENT_MISSING_FIELD, "customer_id");
}

static void
check_wrong_type(void)
{
	static const struct
	{
		const char *key;
		const char *raw;
	} bad[] = {
	    {"customer_id", "42"},
	    {"customer_id", "{\"id\": \"5f0c8a2e-91b4-4d3c-a7e6-0123456789ab\"}"},
	    {"customer_id", "\"not-a-uuid\""},
	    {"customer_id", "\"5f0c8a2e-91b4-4d3c-a7e6-0123456789a\""},
	    {"customer_id", "\"5f0c8a2e-91b4-4d3c-a7e6-0123456789abc\""},
	    {"customer_id", "\"5f0c8a2e91b4-4d3c-a7e6-0123456789ab0\""},
	    {"customer_id", "\"{5f0c8a2e-91b4-4d3c-a7e6-0123456789ab}\""},
	    {"customer_id", "\"5f0c8a2e-91b4-4d3c-a7e6-0123456789ag\""},
	    {"customer_id", "\"5f0c8a2e_91b4_4d3c_a7e6_0123456789ab\""},
	    {"customer_id", "\"5f0c8a2-e91b4-4d3c-a7e6-0123456789ab\""},
	    {"customer_id", "\"5f0c8a2e91b44d3ca7e6 123456789ab\""},
	    {"customer_id", "\"G5f0c8a2e91b44d3ca7e6123456789ab\""},
	    {"customer_id", "\"5f0c8a2e-91b4-4d3c-a7e6-0123456789\\u0000b\""},
	    {"customer_id", "\"\""},
	    {"txn_time", "1714566896"},
	    {"txn_time", "true"},
	    {"amount", "\"19.99\""},
	    {"amount", "\"NaN\""},
	    {"amount", "\"Infinity\""},
	    {"amount", "true"},
	    {"amount", "[19.99]"},
	    {"txn_type", "1"},
	    {"category", "[\"groceries\"]"},
	    {"channel", "false"},
	    {"is_failed", "\"false\""},
	    {"is_failed", "0"},
	    {"is_failed", "1"},
	    {"event_id", "12"},
	    {"event_id", "\"\""},
	    {"event_id", "\"event-1\""},
	    {"merchant_id", "42"},
	    {"merchant_id", "{}"},
	    {"merchant_id", "\"M_\\u0000X\""},
	    {"merchant_id", "\"0123456789012345678901234567890123456789"
	                    "0123456789012345678901234\""}, /* 65 */
	    {"event_time", "1714566896"},
	    {"event_type", "\"prediction\""},
	    {"event_type", "\"Transaction\""},
	    {"event_type", "\"transaction\\u0000\""},
	    {"event_type", "7"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_ERROR(event_with(bad[i].key, bad[i].raw), PD_EVENT_WRONG_TYPE,
		             bad[i].key);
}

static void
check_unknown_values(void)
{
	EXPECT_ERROR(event_with("txn_type", "\"CREDIT\""),
	             PD_EVENT_UNKNOWN_TXN_TYPE, "txn_type");
	EXPECT_ERROR(event_with("txn_type", "\"refund\""),
	             PD_EVENT_UNKNOWN_TXN_TYPE, "\"refund\"");
	EXPECT_ERROR(event_with("txn_type", "\"debit\\u0000\""),
	             PD_EVENT_UNKNOWN_TXN_TYPE, "txn_type");
	EXPECT_ERROR(event_with("txn_type", "\"\""), PD_EVENT_UNKNOWN_TXN_TYPE,
	             "txn_type");

	/* a category of the other txn_type */
	EXPECT_ERROR(
	    event_with2("txn_type", "\"debit\"", "category", "\"salary\""),
	    PD_EVENT_UNKNOWN_CATEGORY, "not a debit category");
	EXPECT_ERROR(
	    event_with2("txn_type", "\"credit\"", "category", "\"groceries\""),
	    PD_EVENT_UNKNOWN_CATEGORY, "not a credit category");
	EXPECT_ERROR(event_with("category", "\"food\""), PD_EVENT_UNKNOWN_CATEGORY,
	             "category");
	EXPECT_ERROR(event_with("category", "\"Groceries\""),
	             PD_EVENT_UNKNOWN_CATEGORY, "category");
	EXPECT_ERROR(event_with("category", "\"groceries \""),
	             PD_EVENT_UNKNOWN_CATEGORY, "category");

	EXPECT_ERROR(event_with("channel", "\"ATM\""), PD_EVENT_UNKNOWN_CHANNEL,
	             "channel");
	EXPECT_ERROR(event_with("channel", "\"mobile\""), PD_EVENT_UNKNOWN_CHANNEL,
	             "\"mobile\"");
	/* a long bad value is cut in the detail; non-ASCII becomes '?' */
	EXPECT_ERROR(
	    event_with("channel", "\"\xc3\xa9xxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                          "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\""),
	    PD_EVENT_UNKNOWN_CHANNEL, "\"??xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\"");
}

static void
check_bad_time(void)
{
	static const char *const bad[] = {
	    "\"\"",
	    "\"yesterday\"",
	    "\"2024-02-30T00:00:00\"",
	    "\"2023-02-29T00:00:00\"",
	    "\"1900-02-29T00:00:00\"",
	    "\"2024-04-31T00:00:00\"",
	    "\"2024-13-01T00:00:00\"",
	    "\"2024-00-10T00:00:00\"",
	    "\"2024-01-00T00:00:00\"",
	    "\"2024-01-01T24:00:00\"",
	    "\"2024-01-01T23:60:00\"",
	    "\"2024-01-01T23:59:60\"",
	    "\"1899-12-31T23:59:59\"",
	    "\"10000-01-01T00:00:00\"",
	    "\"2024-1-01T00:00:00\"",
	    "\"2024-01-01\"",
	    "\"2024-01-01T\"",
	    "\"2024-01-01T00\"",
	    "\"2024-01-01T00:00:\"",
	    "\"2024-01-01T00:00:00.\"",
	    "\"2024-01-01T00:00:00,5\"",
	    "\"2024-01-01T00:00:00 \"",
	    "\" 2024-01-01T00:00:00\"",
	    "\"2024-01-01X00:00:00\"",
	    "\"2024-01-01T00:00:00+\"",
	    "\"2024-01-01T00:00:00+1\"",
	    "\"2024-01-01T00:00:00+24:00\"",
	    "\"2024-01-01T00:00:00+05:60\"",
	    "\"2024-01-01T00:00:00+05:3\"",
	    "\"2024-01-01T00:00:00+053\"",
	    "\"2024-01-01T00:00:00ZZ\"",
	    "\"2024-01-01T00:00:00Z+01\"",
	    "\"2024-01-01T00:00:00 UTC\"",
	    "\"2024-01-01T00:00:00\\u0000\"",
	    "\"2024-01-01T00:00:00.123\\u0000\"",
	    "\"+2024-01-01T00:00:00\"",
	    "\"２０２４-01-01T00:00:00\"",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		EXPECT_ERROR(event_with("txn_time", bad[i]), PD_EVENT_BAD_TIME,
		             "txn_time");
		EXPECT_ERROR(event_with("event_time", bad[i]), PD_EVENT_BAD_TIME,
		             "event_time");
	}
}

/* Checks run in a fixed order: the first failing field is reported. */
static void
check_error_precedence(void)
{
	EXPECT_ERROR(
	    event_with2("event_type", "\"prediction\"", "customer_id", NULL),
	    PD_EVENT_WRONG_TYPE, "event_type");
	EXPECT_ERROR(event_with2("customer_id", NULL, "amount", "-1"),
	             PD_EVENT_MISSING_FIELD, "customer_id");
	EXPECT_ERROR(event_with2("amount", "0", "channel", "\"x\""),
	             PD_EVENT_BAD_AMOUNT, "amount");
	EXPECT_ERROR(event_with2("txn_type", "\"x\"", "category", "\"x\""),
	             PD_EVENT_UNKNOWN_TXN_TYPE, "txn_type");
}

/* ------------------------------------------------------------------------
 * Hostile payloads
 * ------------------------------------------------------------------------
 */

/* Every strict prefix of a valid event is malformed, never a crash. */
static void
check_truncated(void)
{
	const char *events[] = {NULL, NULL};
	char copy[2][1024];

	snprintf(copy[0], sizeof(copy[0]), "%s", event_with(NULL, NULL));
	snprintf(copy[1], sizeof(copy[1]), "%s",
	         event_with2("event_id", NULL, "amount", "1e2"));
	events[0] = copy[0];
	events[1] = copy[1];
	for (int k = 0; k < 2; k++)
	{
		size_t len = strlen(events[k]);

		for (size_t n = 0; n < len; n++)
		{
			/* a heap copy of exactly n bytes: valgrind sees any overread */
			char *p = malloc(n + 1);
			PdTxnEvent e;
			PdEventError err;

			memcpy(p, events[k], n);
			err = pd_parse_txn_event(n == 0 ? NULL : p, n, &e, NULL, 0);
			EXPECT(err == PD_EVENT_MALFORMED_JSON, "prefix of %zu bytes: %s",
			       n, pd_event_error_name(err));
			free(p);
		}
	}
}

/* Random bytes and random mutations of a valid event: no crash. */
static void
check_garbage(void)
{
	const char *seed = event_with(NULL, NULL);
	char base[1024];
	size_t base_len;
	int accepted = 0;

	snprintf(base, sizeof(base), "%s", seed);
	base_len = strlen(base);
	for (int i = 0; i < 20000; i++)
	{
		size_t len = (size_t) (rng_next() % 400);
		char *p = malloc(len + 1);
		PdTxnEvent e;
		char detail[64];
		PdEventError err;

		for (size_t j = 0; j < len; j++)
			p[j] = (char) rng_next();
		err = pd_parse_txn_event(p, len, &e, detail, sizeof(detail));
		EXPECT(err != PD_EVENT_OK && err < PD_EVENT_NUM_ERRORS,
		       "random bytes: %s", pd_event_error_name(err));
		EXPECT(printable_ascii(detail), "detail not printable");
		free(p);
	}
	for (int i = 0; i < 20000; i++)
	{
		char *p = malloc(base_len);
		int flips = 1 + (int) (rng_next() % 4);
		PdTxnEvent e;
		char detail[64];
		PdEventError err;

		memcpy(p, base, base_len);
		for (int f = 0; f < flips; f++)
			p[rng_next() % base_len] = (char) rng_next();
		err = pd_parse_txn_event(p, base_len, &e, detail, sizeof(detail));
		EXPECT(err < PD_EVENT_NUM_ERRORS, "mutation: error %d", (int) err);
		EXPECT(printable_ascii(detail), "detail not printable");
		if (err == PD_EVENT_OK)
		{
			accepted++;
			EXPECT(e.category >= 0 && e.category < NUM_CATEGORIES &&
			           CAT_IS_CREDIT(e.category) == e.credit &&
			           e.channel >= 0 && e.channel < PD_NUM_CHANNELS &&
			           e.amount_cents > 0 &&
			           e.amount_cents <= PD_EVENT_MAX_AMOUNT_CENTS &&
			           strlen(e.merchant_id) <= PD_MERCHANT_MAX,
			       "accepted mutation with bad fields");
		}
		free(p);
	}
	/* mutations inside unknown-to-us bytes (digits, merchant) do pass */
	EXPECT(accepted > 0, "no mutation was accepted at all");
}

static void
check_huge_numbers(void)
{
	PdTxnEvent e;
	PdEventError err;

	/* huge numbers in an unknown field are fine, in amount bad_amount */
	err = parse(event_with2("x", "1e400", "y",
	                        "123456789012345678901234567890123456789"),
	            &e, NULL, 0);
	EXPECT(err == PD_EVENT_OK, "huge unknown numbers: %s",
	       pd_event_error_name(err));
	err = parse(event_with("x", "-1e-400"), &e, NULL, 0);
	EXPECT(err == PD_EVENT_OK, "tiny unknown number: %s",
	       pd_event_error_name(err));
	EXPECT_ERROR(event_with("amount", "1e400"), PD_EVENT_BAD_AMOUNT, "amount");
	EXPECT_ERROR(event_with("amount", "1e-400"), PD_EVENT_BAD_AMOUNT,
	             "amount");
	EXPECT_ERROR(event_with("amount", "123456789012345678901234567890"),
	             PD_EVENT_BAD_AMOUNT, "amount");
	{
		/* a 60,000-digit integer: valid JSON, saturated by json-c */
		char *payload = malloc(60100);
		size_t n = (size_t) snprintf(payload, 60100, "{\"amount\": ");

		memset(payload + n, '9', 60000);
		n += 60000;
		payload[n++] = '}';
		expect_error_at(__LINE__, payload, n, PD_EVENT_MISSING_FIELD,
		                "customer_id");
		free(payload);
	}
}

/* NaN-like values: never a number. */
static void
check_nan_like(void)
{
	EXPECT_ERROR(event_with("amount", "NaN"), PD_EVENT_MALFORMED_JSON, NULL);
	EXPECT_ERROR(event_with("amount", "-NaN"), PD_EVENT_MALFORMED_JSON, NULL);
	EXPECT_ERROR(event_with("amount", "Infinity"), PD_EVENT_MALFORMED_JSON,
	             NULL);
	EXPECT_ERROR(event_with("amount", "\"NaN\""), PD_EVENT_WRONG_TYPE,
	             "amount");
	EXPECT_ERROR(event_with("amount", "\"nan\""), PD_EVENT_WRONG_TYPE,
	             "amount");
	EXPECT_ERROR(event_with("amount", "\"inf\""), PD_EVENT_WRONG_TYPE,
	             "amount");
	EXPECT_ERROR(event_with("txn_time", "\"NaN\""), PD_EVENT_BAD_TIME,
	             "txn_time");
	EXPECT_ERROR(event_with("is_failed", "\"NaN\""), PD_EVENT_WRONG_TYPE,
	             "is_failed");
}

/*
 * Duplicate keys are valid JSON; the last one wins (json-c's behaviour,
 * and PostgreSQL jsonb's).
 */
static void
check_duplicate_keys(void)
{
	PdTxnEvent e;
	PdEventError err;
	char json[2048];

	snprintf(json, sizeof(json), "%s", event_with(NULL, NULL));
	/* append "amount": 2, "channel": "atm", "amount": 3 before the '}' */
	snprintf(json + strlen(json) - 1, 200,
	         ", \"amount\": 2, \"channel\": \"atm\", \"amount\": 3}");
	err = parse(json, &e, NULL, 0);
	EXPECT(err == PD_EVENT_OK && e.amount_cents == 300 && e.channel == 5,
	       "duplicates: %s, %lld cents, channel %d", pd_event_error_name(err),
	       (long long) e.amount_cents, e.channel);
	/* a later null wins too: the field is then missing */
	snprintf(json, sizeof(json), "%s", event_with(NULL, NULL));
	snprintf(json + strlen(json) - 1, 200, ", \"customer_id\": null}");
	EXPECT_ERROR(json, PD_EVENT_MISSING_FIELD, "customer_id");
	/* and a later bad value */
	snprintf(json, sizeof(json), "%s", event_with(NULL, NULL));
	snprintf(json + strlen(json) - 1, 200, ", \"channel\": \"fax\"}");
	EXPECT_ERROR(json, PD_EVENT_UNKNOWN_CHANNEL, "fax");
}

/* The member finder on its own: any key order, last wins, a bound. */
static void
check_strict_members(void)
{
	static const char *const names[] = {"a", "bb", "ccc"};
	static const char *const many[PD_JSON_MAX_NAMES + 1] = {"x"};
	const char *json = "{\"ccc\": 3, \"b\": 0, \"bbb\": 0, \"a\": 1, "
	                   "\"bb\": \"two\", \"a\": 11, \"\": 0}";
	PdJsonMember m[3];
	PdJsonMember more[PD_JSON_MAX_NAMES + 1];
	bool unescaped;
	size_t offset;
	const char *why;

	EXPECT(pd_json_strict_members(json, strlen(json), names, 3, m, &unescaped,
	                              &offset, &why) &&
	           unescaped,
	       "members of a valid object");
	EXPECT(m[0].present && m[0].len == 2 && memcmp(m[0].text, "11", 2) == 0,
	       "a: the last of two");
	EXPECT(m[1].present && m[1].first == '"' && m[1].len == 3 &&
	           memcmp(m[1].text, "two", 3) == 0,
	       "bb: a string, without its quotes");
	EXPECT(m[2].present && m[2].len == 1 && m[2].text[0] == '3',
	       "ccc: found before the names before it");
	json = "{\"b\": 1}";
	EXPECT(pd_json_strict_members(json, strlen(json), names, 3, m, &unescaped,
	                              &offset, &why) &&
	           !m[0].present && !m[1].present && !m[2].present,
	       "a prefix of a name is not the name");
	EXPECT(!pd_json_strict_members(json, strlen(json), many,
	                               PD_JSON_MAX_NAMES + 1, more, &unescaped,
	                               &offset, &why) &&
	           strstr(why, "too many") != NULL,
	       "more names than PD_JSON_MAX_NAMES are refused");
}

static void
check_deep_nesting(void)
{
	char *payload = malloc(PD_EVENT_MAX_BYTES);
	size_t n;
	int depth;
	PdTxnEvent e;
	PdEventError err;

	/* 15 levels inside the event object: allowed */
	for (depth = 15; depth <= 16; depth++)
	{
		char nested[128];
		int k = 0;

		for (int i = 0; i < depth; i++)
			nested[k++] = '[';
		for (int i = 0; i < depth; i++)
			nested[k++] = ']';
		nested[k] = '\0';
		err = parse(event_with("nested", nested), &e, NULL, 0);
		if (depth == 15)
			EXPECT(err == PD_EVENT_OK, "depth 16 in all: %s",
			       pd_event_error_name(err));
		else
			EXPECT_ERROR(event_with("nested", nested), PD_EVENT_MALFORMED_JSON,
			             "nested too deeply");
	}
	/* 64 KB of '[' and of {"a": nesting: no stack overflow */
	memset(payload, '[', PD_EVENT_MAX_BYTES);
	expect_error_at(__LINE__, payload, PD_EVENT_MAX_BYTES,
	                PD_EVENT_MALFORMED_JSON, "nested too deeply");
	for (n = 0; n + 5 <= PD_EVENT_MAX_BYTES; n += 5)
		memcpy(payload + n, "{\"a\":", 5);
	expect_error_at(__LINE__, payload, n, PD_EVENT_MALFORMED_JSON,
	                "nested too deeply");
	free(payload);
}

/* ------------------------------------------------------------------------
 * Times
 * ------------------------------------------------------------------------
 */

static void
check_times(void)
{
	static const struct
	{
		const char *text;
		int64_t t;
	} good[] = {
	    {"2000-01-01T00:00:00Z", 0},
	    {"2000-01-01T00:00:00", 0},
	    {"2000-01-01 00:00", 0},
	    {"2000-01-01t00:00:00z", 0},
	    {"1999-12-31T23:59:59.999999Z", -1},
	    {"2000-01-01T00:00:00.000001", 1},
	    {"2000-01-01T00:00:00.5", 500000},
	    {"2000-01-01T00:00:00.1234567", 123456}, /* truncated */
	    {"2000-01-01T00:00:00.9999999", 999999}, /* not rounded up */
	    {"2000-01-01T00:00:00.000000000000", 0},
	    {"1970-01-01T00:00:00Z", INT64_C(-946684800000000)},
	    {"1900-01-01T00:00:00", INT64_C(-3155673600000000)},
	    {"9999-12-31T23:59:59.999999", INT64_C(252455615999999999)},
	    {"2024-05-01T12:34:56.123456", SEED_TXN_TIME},
	    {"2024-05-01T12:34:56.200000+05:30", SEED_EVENT_TIME},
	    {"2024-05-01T12:34:56.200000+0530", SEED_EVENT_TIME},
	    {"2024-05-01T07:04:56.200000Z", SEED_EVENT_TIME},
	    /* leap days */
	    {"2024-02-29T23:59:59.999999", INT64_C(762566399999999)},
	    {"2000-02-29T00:00:00", INT64_C(59 * 86400000000)},
	    {"2024-03-01T00:00:00", INT64_C(762566400000000)},
	    /* offsets crossing midnight, the month and the year */
	    {"2024-03-01T01:00:00+02:00", INT64_C(762562800000000)},
	    {"2024-02-29T23:00:00Z", INT64_C(762562800000000)},
	    {"2023-12-31T23:30:00-01:00", INT64_C(757384200000000)},
	    {"2024-01-01T00:30:00+00:00", INT64_C(757384200000000)},
	    {"2024-01-01T00:30:00-00:00", INT64_C(757384200000000)},
	    {"2024-01-01T00:30:00+00", INT64_C(757384200000000)},
	    {"2024-01-01T00:30:00.000000+0000", INT64_C(757384200000000)},
	    {"2023-12-31T22:30:00-02", INT64_C(757384200000000)},
	    {"2000-01-01T00:00:00+23:59", INT64_C(-86340000000)},
	    {"1900-01-01T00:00:00+01:00", INT64_C(-3155677200000000)},
	};
	static const char *const bad[] = {
	    "",
	    "2000-01-01T00:00:60",
	    "2000-01-01T24:00:00",
	    "2100-02-29T00:00:00",
	    "2000-02-30T00:00:00",
	    "1899-12-31T23:59:59Z",
	    "2000-01-01T00:00:00+24",
	    "2000-01-01T00:00:00Z ",
	    "2000-01-01T00:00:00.Z",
	    "2000-01-01T00:00.5",
	    "2000-01-01T0:00:00",
	    "20000101T000000Z",
	};
	int64_t t;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
	{
		t = INT64_C(42);
		EXPECT(pd_parse_iso_time(good[i].text, &t) && t == good[i].t,
		       "%s: got %lld, want %lld", good[i].text, (long long) t,
		       (long long) good[i].t);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT(!pd_parse_iso_time(bad[i], &t), "%s accepted", bad[i]);
	EXPECT(!pd_parse_iso_time(NULL, &t), "NULL accepted");
}

static void
check_format_times(void)
{
	static const struct
	{
		int64_t t;
		const char *text;
	} known[] = {
	    {0, "2000-01-01T00:00:00.000000Z"},
	    {-1, "1999-12-31T23:59:59.999999Z"},
	    {1, "2000-01-01T00:00:00.000001Z"},
	    {SEED_TXN_TIME, "2024-05-01T12:34:56.123456Z"},
	    {INT64_C(762566399999999), "2024-02-29T23:59:59.999999Z"},
	    {INT64_C(-3155673600000000), "1900-01-01T00:00:00.000000Z"},
	    {INT64_C(252455615999999999), "9999-12-31T23:59:59.999999Z"},
	    {INT64_C(-946684800000000), "1970-01-01T00:00:00.000000Z"},
	};
	char out[32];

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
	{
		pd_format_iso_time(known[i].t, out);
		EXPECT(strcmp(out, known[i].text) == 0, "%lld: %s, want %s",
		       (long long) known[i].t, out, known[i].text);
	}
	/* the extremes of int64 still fit in 32 bytes */
	pd_format_iso_time(INT64_MAX, out);
	EXPECT(strlen(out) < 32 &&
	           strcmp(out, "294277-01-09T04:00:54.775807Z") == 0,
	       "INT64_MAX: %s", out);
	pd_format_iso_time(INT64_MIN, out);
	EXPECT(strlen(out) < 32 &&
	           strcmp(out, "-290278-12-22T19:59:05.224192Z") == 0,
	       "INT64_MIN: %s", out);
}

/* format -> parse gives the same microseconds; parse -> format too. */
static void
check_time_round_trip(void)
{
	const int64_t lo = INT64_C(-3155673600000000);  /* 1900-01-01 */
	const int64_t hi = INT64_C(252455615999999999); /* 9999-12-31 ... */
	char out[32];
	int64_t back;

	for (int i = 0; i < 200000; i++)
	{
		int64_t t;

		if (i % 2 == 0)
			t = lo + (int64_t) (rng_next() % (uint64_t) (hi - lo + 1));
		else /* around 2000-2040, with whole days and seconds */
			t = (int64_t) (rng_next() % (uint64_t) INT64_C(1262304000)) *
			    (i % 4 == 1 ? USECS_PER_SEC_TEST : 1);
		pd_format_iso_time(t, out);
		EXPECT(pd_parse_iso_time(out, &back) && back == t,
		       "%lld -> %s -> %lld", (long long) t, out, (long long) back);
	}
	EXPECT(pd_parse_iso_time("2024-02-29T23:59:59.999999+05:30", &back),
	       "parse");
	pd_format_iso_time(back, out);
	EXPECT(strcmp(out, "2024-02-29T18:29:59.999999Z") == 0, "%s", out);
}

/* ------------------------------------------------------------------------
 * Produced events
 * ------------------------------------------------------------------------
 */

/* Parses an emitted event back with json-c in strict mode. */
static json_object *
parse_back(const char *json)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *obj;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, json, (int) strlen(json));
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != strlen(json))
	{
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

static const char *
get_str(json_object *obj, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "<not a string>";
	return json_object_get_string(v);
}

static bool
is_null(json_object *obj, const char *key)
{
	json_object *v = (json_object *) 1;

	return json_object_object_get_ex(obj, key, &v) && v == NULL;
}

static void
check_prediction_event(void)
{
	PdTopFeature top[3] = {
	    {"salary_delay_days", 12.0, 0.73},
	    {"failed_autodebit_count_30d", 2.0, -0.1},
	    {"balance_volatility_30d", NAN, INFINITY},
	};
	char *json = pd_prediction_event_json(
	    "1234", "5f0c8a2e-91b4-4d3c-a7e6-0123456789ab", 0.8125, "high", top, 3,
	    7, SEED_TXN_TIME, SEED_EVENT_TIME);
	json_object *obj;
	json_object *v = NULL;
	PdTxnEvent e;

	EXPECT(json != NULL, "NULL");
	if (json == NULL)
		return;
	obj = parse_back(json);
	EXPECT(obj != NULL, "not valid JSON: %s", json);
	EXPECT(strstr(json, "\"risk_score\":0.8125") != NULL &&
	           strstr(json, "\"contribution\":0.73") != NULL &&
	           strstr(json, "\"value\":12.0") != NULL,
	       "numbers not in their short form: %s", json);
	EXPECT(strstr(json, "NaN") == NULL && strstr(json, "nfinity") == NULL,
	       "non-finite number: %s", json);
	/* our own strict check accepts it; only event_type is refused */
	EXPECT(pd_parse_txn_event(json, strlen(json), &e, NULL, 0) ==
	           PD_EVENT_WRONG_TYPE,
	       "strict check refused the prediction event");
	if (obj != NULL)
	{
		EXPECT(strcmp(get_str(obj, "event_id"), "1234") == 0, "event_id");
		EXPECT(strcmp(get_str(obj, "customer_id"),
		              "5f0c8a2e-91b4-4d3c-a7e6-0123456789ab") == 0,
		       "customer_id");
		EXPECT(strcmp(get_str(obj, "risk_level"), "high") == 0, "risk_level");
		EXPECT(strcmp(get_str(obj, "timestamp"),
		              "2024-05-01T12:34:56.123456Z") == 0,
		       "timestamp %s", get_str(obj, "timestamp"));
		EXPECT(strcmp(get_str(obj, "event_time"),
		              "2024-05-01T07:04:56.200000Z") == 0,
		       "event_time %s", get_str(obj, "event_time"));
		EXPECT(strcmp(get_str(obj, "event_type"), "prediction") == 0,
		       "event_type");
		EXPECT(json_object_object_get_ex(obj, "model_id", &v) &&
		           json_object_get_int(v) == 7,
		       "model_id");
		EXPECT(json_object_object_get_ex(obj, "top_features", &v) &&
		           json_object_array_length(v) == 3,
		       "top_features");
		if (json_object_is_type(v, json_type_array) &&
		    json_object_array_length(v) == 3)
		{
			json_object *f = json_object_array_get_idx(v, 2);

			EXPECT(strcmp(get_str(f, "feature"), "balance_volatility_30d") ==
			           0,
			       "feature name");
			EXPECT(is_null(f, "value") && is_null(f, "contribution"),
			       "non-finite value is not null");
		}
		json_object_put(obj);
	}
	free(json);

	/* NaN risk score, NULL strings, no features */
	json = pd_prediction_event_json("e", NULL, NAN, NULL, NULL, 0, 1, 0, -1);
	obj = json ? parse_back(json) : NULL;
	EXPECT(obj != NULL, "NaN prediction not valid JSON: %s",
	       json ? json : "(null)");
	if (obj != NULL)
	{
		EXPECT(is_null(obj, "risk_score") && is_null(obj, "customer_id") &&
		           is_null(obj, "risk_level"),
		       "nulls: %s", json);
		EXPECT(json_object_object_get_ex(obj, "top_features", &v) &&
		           json_object_array_length(v) == 0,
		       "empty top_features");
		EXPECT(strcmp(get_str(obj, "event_time"),
		              "1999-12-31T23:59:59.999999Z") == 0,
		       "event_time");
		json_object_put(obj);
	}
	free(json);
}

static void
check_intervention_event(void)
{
	const char *factors[] = {"salary_delay_days", "quote \" and \\ and /",
	                         "caf\xc3\xa9"};
	char *json = pd_intervention_event_json(
	    "9d2c-1", "5f0c8a2e-91b4-4d3c-a7e6-0123456789ab", -INFINITY,
	    "critical", "payment_holiday_offer",
	    "Hi,\n\"we\" noticed a delay\ttoday.", "sms", 1, factors, 3,
	    SEED_TXN_TIME);
	json_object *obj;
	json_object *v;
	PdTxnEvent e;

	EXPECT(json != NULL, "NULL");
	if (json == NULL)
		return;
	obj = parse_back(json);
	EXPECT(obj != NULL, "not valid JSON: %s", json);
	EXPECT(strstr(json, "\\/") == NULL, "slash escaped: %s", json);
	EXPECT(pd_parse_txn_event(json, strlen(json), &e, NULL, 0) ==
	           PD_EVENT_WRONG_TYPE,
	       "strict check refused the intervention event");
	if (obj != NULL)
	{
		EXPECT(strcmp(get_str(obj, "intervention_id"), "9d2c-1") == 0,
		       "intervention_id");
		EXPECT(is_null(obj, "risk_score"), "-inf risk_score not null");
		EXPECT(strcmp(get_str(obj, "risk_level"), "critical") == 0,
		       "risk_level");
		EXPECT(strcmp(get_str(obj, "intervention_type"),
		              "payment_holiday_offer") == 0,
		       "intervention_type");
		EXPECT(strcmp(get_str(obj, "message"),
		              "Hi,\n\"we\" noticed a delay\ttoday.") == 0,
		       "message");
		EXPECT(strcmp(get_str(obj, "channel"), "sms") == 0, "channel");
		EXPECT(json_object_object_get_ex(obj, "priority", &v) &&
		           json_object_is_type(v, json_type_int) &&
		           json_object_get_int(v) == 1,
		       "priority");
		EXPECT(
		    json_object_object_get_ex(obj, "top_risk_factors", &v) &&
		        json_object_array_length(v) == 3 &&
		        strcmp(json_object_get_string(json_object_array_get_idx(v, 1)),
		               factors[1]) == 0 &&
		        strcmp(json_object_get_string(json_object_array_get_idx(v, 2)),
		               factors[2]) == 0,
		    "top_risk_factors");
		EXPECT(strcmp(get_str(obj, "timestamp"),
		              "2024-05-01T12:34:56.123456Z") == 0,
		       "timestamp");
		EXPECT(strcmp(get_str(obj, "status"), "triggered") == 0, "status");
		EXPECT(strcmp(get_str(obj, "event_type"), "intervention") == 0,
		       "event_type");
		json_object_put(obj);
	}
	free(json);

	json = pd_intervention_event_json("i", "c", 0.5, "low", "none", "", "app",
	                                  3, NULL, 0, 0);
	obj = json ? parse_back(json) : NULL;
	EXPECT(obj != NULL && strstr(json, "\"risk_score\":0.5,") != NULL &&
	           strstr(json, "\"top_risk_factors\":[]") != NULL,
	       "minimal intervention: %s", json ? json : "(null)");
	json_object_put(obj);
	free(json);
}

static void
check_error_names(void)
{
	static const char *const names[] = {
	    "ok",
	    "oversized",
	    "malformed_json",
	    "missing_field",
	    "wrong_type",
	    "bad_amount",
	    "unknown_txn_type",
	    "unknown_category",
	    "unknown_channel",
	    "bad_time",
	};

	EXPECT(sizeof(names) / sizeof(names[0]) == PD_EVENT_NUM_ERRORS,
	       "%d reasons", (int) PD_EVENT_NUM_ERRORS);
	for (int i = 0; i < PD_EVENT_NUM_ERRORS; i++)
		EXPECT(strcmp(pd_event_error_name((PdEventError) i), names[i]) == 0,
		       "%d: %s", i, pd_event_error_name((PdEventError) i));
	EXPECT(strcmp(pd_event_error_name(PD_EVENT_NUM_ERRORS), "unknown_error") ==
	           0,
	       "out of range");
}

/* A short detail buffer is cut, never overrun; NULL detail is fine. */
static void
check_detail_buffer(void)
{
	PdTxnEvent e;
	char detail[8];
	PdEventError err;

	memset(detail, 'X', sizeof(detail));
	err = parse(event_with("channel", "\"mobile\""), &e, detail, 5);
	EXPECT(err == PD_EVENT_UNKNOWN_CHANNEL && strcmp(detail, "fiel") == 0 &&
	           detail[5] == 'X',
	       "cut detail \"%.5s\"", detail);
	err = parse(event_with("channel", "\"mobile\""), &e, detail, 0);
	EXPECT(err == PD_EVENT_UNKNOWN_CHANNEL && detail[0] == 'f',
	       "size 0 wrote the detail");
	err = parse(event_with("channel", "\"mobile\""), &e, NULL, 100);
	EXPECT(err == PD_EVENT_UNKNOWN_CHANNEL, "NULL detail");
}

int
main(void)
{
	run_check("seed_event", check_seed_event);
	run_check("seed_event_variants", check_seed_event_variants);
	run_check("amounts", check_amounts);
	run_check("oversized", check_oversized);
	run_check("malformed_json", check_malformed);
	run_check("missing_field", check_missing_field);
	run_check("wrong_type", check_wrong_type);
	run_check("unknown_txn_type_category_channel", check_unknown_values);
	run_check("bad_time", check_bad_time);
	run_check("error_precedence", check_error_precedence);
	run_check("truncated_events", check_truncated);
	run_check("binary_garbage_and_mutations", check_garbage);
	run_check("huge_numbers", check_huge_numbers);
	run_check("nan_like_values", check_nan_like);
	run_check("duplicate_keys_last_wins", check_duplicate_keys);
	run_check("strict_members", check_strict_members);
	run_check("deep_nesting", check_deep_nesting);
	run_check("iso_times", check_times);
	run_check("format_times", check_format_times);
	run_check("time_round_trip", check_time_round_trip);
	run_check("prediction_event", check_prediction_event);
	run_check("intervention_event", check_intervention_event);
	run_check("error_names", check_error_names);
	run_check("detail_buffer", check_detail_buffer);
	run_check("fast_and_json_c_paths_agree", check_paths_agree);

	if (failed_checks > 0)
	{
		printf("%d check(s) FAILED\n", failed_checks);
		return 1;
	}
	printf("all checks ok\n");
	return 0;
}
