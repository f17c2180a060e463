/*
 * sim_bank.h
 *    pd_simulate's picture of the bank: the customers it sends events for
 *    (loaded from pre_delinquency.customers, or made up) and how they live,
 *    so that live events continue their timelines plausibly.
 *
 * Turning an event into bytes is sim_events.c's; reading the database is
 * sim_db.c's.
 */
#ifndef PD_SIM_BANK_H
#define PD_SIM_BANK_H

#include <stdbool.h>
#include <stdint.h>

#include "tool_util.h"

/* One transaction event as the seed's simulator sent it. */
typedef struct SimEvent
{
	const char *event_id;
	const char *customer_id;
	const char *txn_time; /* ISO-8601 UTC */
	const char *amount;   /* decimal text, e.g. "1250.00" */
	const char *txn_type; /* credit | debit */
	const char *category;
	const char *channel;
	const char *merchant_id; /* NULL: JSON null */
	bool is_failed;

	/* storage for the fields of live events */
	char buf_event_id[TOOL_UUID_LEN];
	char buf_txn_time[TOOL_TIME_LEN];
	char buf_amount[32];
	char buf_merchant[16];
} SimEvent;

#define SIM_MAX_MERCHANTS 48 /* remembered per customer */

typedef struct SimMerchant
{
	uint8_t kind; /* index into the kinds of sim_bank.c */
	char id[15];
} SimMerchant;

typedef struct SimCustomer
{
	char id[TOOL_UUID_LEN];
	double income;            /* rupees a month */
	int salary_day;           /* 1..28 */
	int64_t last_salary_usec; /* latest salary credit known, 0: none */
	double emi;               /* latest loan instalment, 0: unknown */
	bool stressed;
	bool rents;
	int nmerchants;
	SimMerchant merchants[SIM_MAX_MERCHANTS];
} SimCustomer;

typedef struct SimBank
{
	SimCustomer *customers;
	int ncustomers;
	int capacity;
	SimCustomer **by_id; /* sorted by id, for sim_bank_find */
	uint64_t seed;
	double stress_fraction;
	int nstressed;
	ToolRng rng;   /* the choices: same seed, same sequence */
	ToolRng ids;   /* event ids: fresh every run */
	long salaries; /* salary credits sent */
} SimBank;

void sim_bank_init(SimBank *bank, uint64_t seed, double stress_fraction);

/* A customer as read from the database (or made up); returns it. */
SimCustomer *sim_bank_add(SimBank *bank, const char *id, double income,
                          int salary_day);

/* A merchant the customer paid recently for a debit category. */
void sim_bank_add_merchant(SimCustomer *c, const char *category,
                           const char *merchant_id);

/* n customers of a made-up bank (when there is no database to read). */
void sim_bank_make_up(SimBank *bank, int n);

/* After adding: choose who is stressed, who rents; index by id. */
void sim_bank_finish(SimBank *bank);

SimCustomer *sim_bank_find(SimBank *bank, const char *id);

/* Frees what the bank allocated (LeakSanitizer checks the tools). */
void sim_bank_free(SimBank *bank);

/* The next live event, happening at now_usec. */
void sim_bank_next_event(SimBank *bank, SimEvent *ev, int64_t now_usec);

#endif
