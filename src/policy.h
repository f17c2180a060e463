/*
 * policy.h
 *    Assessment and the intervention policy.
 */
#ifndef PD_POLICY_H
#define PD_POLICY_H

/* pre_delinquency.intervention_cooldown, in seconds */
extern int pd_intervention_cooldown;

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/uuid.h"

/*
 * Assesses n customers, each as of its own time, in batches: risk_scores
 * rows, interventions as the policy and cooldown say, and (through their
 * triggers) outbox rows. Returns how many interventions were created.
 */
extern int64 pd_assess_customers(const pg_uuid_t *ids,
                                 const TimestampTz *as_of, int n);

#endif
