/*
 * sim_db.h
 *    pd_simulate's reads of the bank through libpq: the customers whose
 *    timelines live events continue, and the stored history --replay
 *    streams. Read-only; every query has parameters, none is pasted text.
 */
#ifndef PD_SIM_DB_H
#define PD_SIM_DB_H

#include <libpq-fe.h>

#include "sim_bank.h"

/* Connects (the string may be a URI, key=value pairs, or "" for PG*). */
PGconn *sim_db_connect(const char *dsn);

/*
 * Adds up to limit customers (0: all) to the bank, a sample that depends on
 * the seed only, with their latest salary credit, loan instalment and the
 * merchants they paid in the last 60 days; finishes the bank. Returns how
 * many were added.
 */
int sim_db_load_bank(PGconn *conn, SimBank *bank, long limit, uint64_t seed);

/* Stored transactions with txn_time in [from, to), in time order. */
typedef struct SimReplay
{
	PGconn *conn;
	PGresult *row;
} SimReplay;

void sim_replay_start(SimReplay *r, PGconn *conn, const char *from,
                      const char *to, long limit);

/* The next row into ev (valid until the next call); false at the end. */
bool sim_replay_next(SimReplay *r, SimEvent *ev);

/* Stops early if needed and releases the result. */
void sim_replay_finish(SimReplay *r);

#endif
