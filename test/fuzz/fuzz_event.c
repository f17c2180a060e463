/*
 * fuzz_event.c
 *    libFuzzer harness of the event parser and validator: src/event_json.c
 *    (pd_parse_txn_event, pd_parse_iso_time, the emitters) over
 *    src/json_strict.c, built with clang -fsanitize=fuzzer,address,undefined
 *    by test/fuzz/run.sh (make fuzz).
 *
 * Besides "no crash, no leak, no undefined behaviour" it checks what the
 * parser promises in event_json.h, so that a wrong answer is a finding too:
 * a known reason code, a detail that is short printable ASCII, a valid event
 * whose fields are in range, strict JSON that json-c also accepts, the
 * same answer from the parser's two paths (flat events read from the
 * payload, everything through json-c's tree), and ISO times that survive a
 * format/parse round trip. A broken promise abort()s,
 * which libFuzzer reports as a crash with the input that caused it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../../src/categories.h"
#include "../../src/event_json.h"
#include "../../src/json_strict.h"

#define PROMISE(cond)                                                         \
	do                                                                        \
	{                                                                         \
		if (!(cond))                                                          \
		{                                                                     \
			fprintf(stderr, "fuzz_event: broken promise at line %d: %s\n",    \
			        __LINE__, #cond);                                         \
			abort();                                                          \
		}                                                                     \
	} while (0)

/* A detail: NUL-terminated inside its buffer, printable ASCII only. */
static void
check_detail(const char *detail, size_t size)
{
	size_t n = strnlen(detail, size);

	PROMISE(n < size);
	for (size_t i = 0; i < n; i++)
		PROMISE(detail[i] >= 0x20 && detail[i] < 0x7F);
}

/* What a valid event promises about its fields. */
static void
check_valid_event(const PdTxnEvent *e)
{
	PROMISE(e->amount_cents > 0 &&
	        e->amount_cents <= PD_EVENT_MAX_AMOUNT_CENTS);
	PROMISE(e->channel >= 0 && e->channel < PD_NUM_CHANNELS);
	if (e->credit)
		PROMISE(e->category >= CAT_SALARY && e->category < NUM_CATEGORIES);
	else
		PROMISE(e->category >= 0 && e->category < NUM_DEBIT_CATEGORIES);
	if (e->has_merchant)
	{
		size_t n = strnlen(e->merchant_id, sizeof(e->merchant_id));

		PROMISE(n > 0 && n <= PD_MERCHANT_MAX);
	}
	else
		PROMISE(e->merchant_id[0] == '\0');
}

/* The whole payload as one transaction event. */
static void
fuzz_parse(const uint8_t *data, size_t size)
{
	PdTxnEvent event;
	PdTxnEvent reference;
	char detail[96];
	char reference_detail[96];
	char tiny[8];
	size_t error_offset = 0;
	const char *why = NULL;
	PdEventError err;
	PdEventError reference_err;
	bool strict;

	err = pd_parse_txn_event((const char *) data, size, &event, detail,
	                         sizeof(detail));
	PROMISE(err >= PD_EVENT_OK && err < PD_EVENT_NUM_ERRORS);
	PROMISE(strcmp(pd_event_error_name(err), "unknown_error") != 0);
	check_detail(detail, sizeof(detail));
	if (err == PD_EVENT_OK)
	{
		PROMISE(detail[0] == '\0');
		check_valid_event(&event);
	}
	else
		PROMISE(detail[0] != '\0');
	/* a malformed_json from json-c itself means the two scanners disagree */
	PROMISE(strncmp(detail, "json-c failed", 13) != 0);

	/*
	 * The path that reads flat events from the payload and the one through
	 * json-c's tree: the same reason, detail and, when valid, event.
	 */
	reference_err =
	    pd_parse_txn_event_json_c((const char *) data, size, &reference,
	                              reference_detail, sizeof(reference_detail));
	PROMISE(reference_err == err);
	PROMISE(strcmp(reference_detail, detail) == 0);
	if (err == PD_EVENT_OK)
		PROMISE(memcmp(&reference, &event, sizeof(event)) == 0);

	/* a detail buffer too small to hold it is cut, never overrun */
	PROMISE(pd_parse_txn_event((const char *) data, size, &event, tiny,
	                           sizeof(tiny)) == err);
	check_detail(tiny, sizeof(tiny));
	PROMISE(pd_parse_txn_event((const char *) data, size, &event, NULL, 0) ==
	        err);

	if (size <= PD_EVENT_MAX_BYTES)
	{
		strict =
		    pd_json_strict((const char *) data, size, &error_offset, &why);
		if (!strict)
			PROMISE(why != NULL && error_offset <= size);
		if (size > 0)
			PROMISE(strict == (err != PD_EVENT_MALFORMED_JSON ||
			                   strstr(detail, "not an object") != NULL));
	}
}

/* The payload as an ISO-8601 time (NUL-terminated copy, cut at a NUL). */
static void
fuzz_time(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	int64_t t;
	int64_t again;
	char formatted[32];

	if (text == NULL)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	if (pd_parse_iso_time(text, &t))
	{
		pd_format_iso_time(t, formatted);
		PROMISE(pd_parse_iso_time(formatted, &again) && again == t);
	}
	free(text);

	/* any 8 bytes as a time: formatting never overruns or misbehaves */
	if (size >= 8)
	{
		memcpy(&t, data, sizeof(t));
		pd_format_iso_time(t, formatted);
		PROMISE(strnlen(formatted, sizeof(formatted)) < sizeof(formatted));
	}
}

/*
 * The payload as the strings of outgoing events: the emitters must not
 * crash on any bytes and, for text without NULs, produce JSON that json-c
 * reads back as an object.
 */
static void
fuzz_emit(const uint8_t *data, size_t size)
{
	char *text;
	char *json;
	PdTopFeature top[2];
	const char *factors[2];
	double number = 0;
	int64_t when = 0;

	if (size > 4096)
		return;
	text = malloc(size + 1);
	if (text == NULL)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	if (size >= sizeof(number))
	{
		memcpy(&number, data, sizeof(number));
		memcpy(&when, data, sizeof(when));
	}
	top[0] = (PdTopFeature){text, number, -number};
	top[1] = (PdTopFeature){NULL, 0.5, 0.25};
	factors[0] = text;
	factors[1] = NULL;

	json = pd_prediction_event_json(text, NULL, number, text, top, 2, 7,
	                                INT64_C(767882096123456),
	                                (int64_t) size * 1000003);
	if (json != NULL)
	{
		json_object *back = json_tokener_parse(json);

		PROMISE(back != NULL && json_object_is_type(back, json_type_object));
		json_object_put(back);
		free(json);
	}
	json = pd_intervention_event_json(NULL, text, number, "high", text, text,
	                                  "sms", 2, factors, 2, when);
	if (json != NULL)
	{
		json_object *back = json_tokener_parse(json);

		PROMISE(back != NULL && json_object_is_type(back, json_type_object));
		json_object_put(back);
		free(json);
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_parse(data, size);
	fuzz_time(data, size);
	fuzz_emit(data, size);
	return 0;
}
