/*
 * risk_bulk.h
 *    A batch of assessments into risk_scores and their prediction events
 *    into the outbox, written the way COPY writes rows.
 */
#ifndef PD_RISK_BULK_H
#define PD_RISK_BULK_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/uuid.h"

/* One risk_scores row to write. */
typedef struct PdRiskRow
{
	const pg_uuid_t *customer_id;
	TimestampTz as_of;
	double score;
	const char *level;
	Datum top_features; /* jsonb */
} PdRiskRow;

/*
 * Whether risk_scores and the outbox are as the extension made them (their
 * only insert triggers the two foreign key checks and the outbox trigger,
 * the columns its own), so that pd_risk_bulk_insert may stand in for
 * INSERT. Otherwise the caller INSERTs and every trigger fires.
 */
extern bool pd_risk_bulk_applicable(void);

/*
 * What INSERT INTO risk_scores would do, triggers included, for rows[0..n)
 * scored by model_id: the rows, their prediction events in the outbox (in
 * score_id order), with the foreign keys' checks done once for the batch.
 */
extern void pd_risk_bulk_insert(const PdRiskRow *rows, int n, int model_id);

/*
 * pd_risk_bulk_insert in two steps, for a caller that writes the rows in
 * parallel mode (assess_all, while parallel workers compute the next
 * batch's features; they read no table written here). pd_risk_bulk_reserve,
 * outside parallel mode, takes the foreign keys' locks and the rows'
 * identity values (nextval is not allowed in parallel mode);
 * pd_risk_bulk_write writes the rows, which the caller's next command
 * (after CommandCounterIncrement, outside parallel mode) sees.
 */
typedef struct PdRiskIds
{
	int64 *score_ids;  /* risk_scores.score_id of row i */
	int64 *outbox_ids; /* outbox.outbox_id of its prediction event */
} PdRiskIds;

extern void pd_risk_bulk_reserve(const pg_uuid_t *customers, int n,
                                 int model_id, PdRiskIds *ids);
extern void pd_risk_bulk_write(const PdRiskRow *rows, int n, int model_id,
                               const PdRiskIds *ids);

#endif
