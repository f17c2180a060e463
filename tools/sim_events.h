/*
 * sim_events.h
 *    The bytes pd_simulate sends: a transaction event as the seed's JSON
 *    (through json-c, so every string is escaped correctly), and the
 *    malformed events --bad-fraction mixes in for demos of dead letters.
 *
 * What happens in an event is sim_bank.c's or the stored history's.
 */
#ifndef PD_SIM_EVENTS_H
#define PD_SIM_EVENTS_H

#include <stddef.h>

#include "sim_bank.h"
#include "tool_util.h"

typedef enum BadKind
{
	BAD_TRUNCATED,        /* valid JSON cut short */
	BAD_WRONG_TYPE,       /* a field of the wrong JSON type */
	BAD_UNKNOWN_CUSTOMER, /* a customer_id the bank does not have */
	BAD_NEGATIVE_AMOUNT,  /* amount below zero */
	BAD_UNKNOWN_CATEGORY, /* a category no txn_type allows */
	BAD_MISSING_FIELD,    /* a required field left out */
	BAD_GARBAGE,          /* binary bytes, not text */
	N_BAD_KINDS
} BadKind;

/* "truncated", "wrong_type", ... as the summary and the headers name them */
extern const char *const sim_bad_kind_names[N_BAD_KINDS];

/* A message ready for the producer; the buffer is reused. */
typedef struct Payload
{
	char *data;
	size_t len;
	size_t capacity;
	char key[TOOL_UUID_LEN]; /* customer_id, the partitioning key */
} Payload;

/* The event as JSON, event_time = when it is emitted. */
void sim_render_event(const SimEvent *ev, const char *event_time,
                      Payload *out);

/*
 * A malformed variant of the event. The n-th bad event of a kind picks the
 * variant (which field is mistyped or missing, ...), so a run shows them
 * all; rng decides cut points, garbage bytes and unknown ids.
 */
void sim_render_bad(const SimEvent *ev, const char *event_time, BadKind kind,
                    long nth, ToolRng *rng, Payload *out);

#endif
