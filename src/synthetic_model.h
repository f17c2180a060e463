/*
 * synthetic_model.h
 *    The behavioural model of the synthetic bank, as the SQL entry point
 *    (synthetic.c) and the bulk writer (bulk_writer.c) see it: the window
 *    simulated, what a simulated transaction and payment are, the uuids of
 *    the rows (synthetic_random.h), and one customer simulated from first
 *    draw to last row.
 */
#ifndef PD_SYNTHETIC_MODEL_H
#define PD_SYNTHETIC_MODEL_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/date.h"
#include "utils/uuid.h"

#include "categories.h"
#include "synthetic_random.h" /* the rows' uuids */

struct Writer; /* bulk_writer.h */

typedef enum Channel
{
	CH_POS,
	CH_CARD,
	CH_ONLINE,
	CH_UPI,
	CH_NETBANKING,
	CH_ATM,
	CH_BRANCH,
	CH_AUTODEBIT,
	N_CHANNELS
} Channel;

typedef enum PayKind
{
	PK_LOAN,
	PK_UTILITY,
	PK_RENT,
	PK_INSURANCE,
	PK_CREDIT_CARD,
	N_KINDS
} PayKind;

typedef enum Bracket
{
	BR_LOW,
	BR_MIDDLE,
	BR_HIGH
} Bracket;

typedef enum AccountType
{
	AT_SALARY,
	AT_SAVINGS,
	AT_CURRENT
} AccountType;

/* What generate_synthetic was asked for. */
typedef struct Window
{
	uint32 seed;
	int customers;
	int days;
	TimestampTz start;
	TimestampTz end;
} Window;

/* ------------------------------------------------------------------------
 * What the simulation produces besides transactions: obligations (the
 * payments rows).
 * ------------------------------------------------------------------------
 */
typedef enum OblState
{
	OBL_SCHEDULED, /* a mandate will be presented on the due date */
	OBL_OPEN,      /* to be paid by hand from next_try on */
	OBL_PAID,
	OBL_PARTIAL,
	OBL_MISSED
} OblState;

typedef struct Obligation
{
	DateADT due;
	int64 amount;
	PayKind kind;
	OblState state;
	DateADT next_try; /* OPEN: first day of manual attempts */
	DateADT retry[2]; /* the bank re-presents a failed loan mandate */
	DateADT give_up;  /* after this, unpaid for good */
	DateADT paid_date;
	int64 paid;
} Obligation;

/* A transaction as it is planned for a day: written out if it happens. */
typedef enum EventKind
{
	EV_CREDIT,
	EV_SPEND,
	EV_AUTODEBIT,
	EV_MANUAL,
	EV_ESSENTIAL /* school fee, phone: paid when possible */
} EventKind;

typedef struct DayEvent
{
	TimestampTz time;
	EventKind kind;
	Category category;
	Channel channel;
	int32 merchant; /* -1: NULL */
	int64 amount;
	int obligation; /* EV_AUTODEBIT, EV_MANUAL */
} DayEvent;

/* What one customer's simulation leaves for the summary. */
typedef struct CustomerOutcome
{
	int64 transactions;
	int64 failed;
	bool episode; /* went through a stress episode */
	/* the payments rows, in the caller's memory context */
	const Obligation *obligations;
	int nobligations;
} CustomerOutcome;

/*
 * Customer 'number' of the window: drawn from (seed, number) alone,
 * simulated day by day, and all its rows written through 'w'. Allocates in
 * the current memory context.
 */
extern void pd_simulate_customer(struct Writer *w, const Window *win,
                                 int number, CustomerOutcome *out);

#endif
