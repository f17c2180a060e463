/*
 * event_json.h
 *    Kafka payloads <-> C structs: parsing and validating the seed system's
 *    transaction events, and emitting prediction and intervention events.
 *
 * Pure C over json-c: no palloc, no ereport, no Postgres calls, so that it
 * is safe anywhere in a worker and can be fuzzed on its own. Every failure is
 * a reason code plus a short human-readable detail, never a crash.
 */
#ifndef PD_EVENT_JSON_H
#define PD_EVENT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Payloads larger than this are dead letters without being parsed. */
#define PD_EVENT_MAX_BYTES (64 * 1024)
/* Amounts above this (currency units) are absurd: dead letters. */
#define PD_EVENT_MAX_AMOUNT_CENTS INT64_C(100000000000) /* 1e9 units */
#define PD_MERCHANT_MAX           64

typedef enum PdEventError
{
	PD_EVENT_OK = 0,
	PD_EVENT_OVERSIZED,      /* > PD_EVENT_MAX_BYTES */
	PD_EVENT_MALFORMED_JSON, /* not JSON, truncated, not an object */
	PD_EVENT_MISSING_FIELD,  /* a required field is absent or null */
	PD_EVENT_WRONG_TYPE,     /* a field has the wrong JSON type or form */
	PD_EVENT_BAD_AMOUNT,     /* <= 0, NaN, infinite, > max, < 0.01 steps */
	PD_EVENT_UNKNOWN_TXN_TYPE,
	PD_EVENT_UNKNOWN_CATEGORY, /* not in its txn_type's list */
	PD_EVENT_UNKNOWN_CHANNEL,
	PD_EVENT_BAD_TIME, /* unparseable or out of range time */
	PD_EVENT_NUM_ERRORS
} PdEventError;

/* The reason stored in dead_letters.reason, e.g. "malformed_json". */
extern const char *pd_event_error_name(PdEventError error);

/*
 * A validated transaction event. Times are microseconds since
 * 2000-01-01 00:00 UTC (PostgreSQL's TimestampTz epoch). Category and
 * channel are indexes into pd_category_names / pd_channel_names.
 */
typedef struct PdTxnEvent
{
	bool has_event_id;
	uint8_t event_id[16];
	uint8_t customer_id[16];
	int64_t txn_time;
	int64_t amount_cents;
	bool credit;
	int category;
	int channel;
	bool has_merchant;
	char merchant_id[PD_MERCHANT_MAX + 1];
	bool is_failed;
	bool has_event_time;
	int64_t event_time;
} PdTxnEvent;

/*
 * Parses and validates one payload (need not be NUL-terminated). On
 * failure returns the reason and writes a one-line detail (e.g. "field
 * amount: expected a number") into detail[detail_size]; the detail is
 * printable ASCII (bad values quoted, cut at 32 characters), "" on success,
 * and detail may be NULL.
 *
 * The payload must be one RFC 8259 JSON object (checked strictly: no NaN,
 * no single quotes, valid UTF-8, at most 16 levels of nesting, nothing but
 * white space after it). Duplicate keys: the last one wins, as in jsonb.
 * Unknown fields are ignored. Required, absent or null = missing_field:
 * customer_id (uuid, any case, with or without dashes), txn_time, amount (a
 * JSON number of whole cents in (0, 1e9]), txn_type, category (of that
 * txn_type), channel. Optional: is_failed (boolean; absent or null =
 * false), event_id (uuid), merchant_id (string of at most PD_MERCHANT_MAX
 * bytes; "" = null), event_time, event_type (if given, "transaction").
 * A string field holding \u0000 never matches.
 */
extern PdEventError pd_parse_txn_event(const char *payload, size_t len,
                                       PdTxnEvent *event, char *detail,
                                       size_t detail_size);

/*
 * The same answer, always read from json-c's tree of the payload:
 * pd_parse_txn_event reads flat events straight from the payload, and the
 * fuzzer and the unit test check that both paths agree on every input.
 */
extern PdEventError pd_parse_txn_event_json_c(const char *payload, size_t len,
                                              PdTxnEvent *event, char *detail,
                                              size_t detail_size);

/* The channels of FEATURES.md, in this order. */
#define PD_NUM_CHANNELS 8
extern const char *const pd_channel_names[PD_NUM_CHANNELS];

/*
 * Parses an ISO-8601 time: YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]] with an
 * optional Z or +HH[:MM]/-HH[:MM] offset (none means UTC). Returns false if
 * it is not one or is out of range (years 1900..9999, no second 60).
 * Fraction digits past the sixth are truncated, not rounded.
 */
extern bool pd_parse_iso_time(const char *text, int64_t *out);

/*
 * Writes t as "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC, always 6 fraction digits)
 * into out[32]; pd_parse_iso_time reads it back exactly (years 1900..9999).
 */
extern void pd_format_iso_time(int64_t t, char out[32]);

/* One feature of a prediction's top features. */
typedef struct PdTopFeature
{
	const char *feature;
	double value;
	double contribution;
} PdTopFeature;

/*
 * The prediction event of the seed system, as a malloc'd NUL-terminated
 * JSON string the caller frees with free(): event_id, customer_id,
 * risk_score, risk_level, top_features [{feature, value, contribution}],
 * model_id, timestamp, event_time, event_type "prediction". NULL strings
 * and non-finite numbers (NaN risk_score) become JSON null; numbers are
 * written in their shortest round-trip form; times via pd_format_iso_time.
 * Returns NULL only when out of memory.
 */
extern char *
pd_prediction_event_json(const char *event_id, const char *customer_id,
                         double risk_score, const char *risk_level,
                         const PdTopFeature *top, int n_top, int model_id,
                         int64_t timestamp, int64_t event_time);

/*
 * The intervention event of the seed system (malloc'd, free() it):
 * intervention_id, customer_id, risk_score, risk_level, intervention_type,
 * message, channel, priority, top_risk_factors [..], timestamp, status
 * "triggered", event_type "intervention". Nulls, numbers and times as for
 * pd_prediction_event_json.
 */
extern char *pd_intervention_event_json(
    const char *intervention_id, const char *customer_id, double risk_score,
    const char *risk_level, const char *intervention_type, const char *message,
    const char *channel, int priority, const char *const *factors,
    int n_factors, int64_t timestamp);

#endif
