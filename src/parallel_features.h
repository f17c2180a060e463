/*
 * parallel_features.h
 *    The features of many customers at once, with parallel workers.
 */
#ifndef PD_PARALLEL_FEATURES_H
#define PD_PARALLEL_FEATURES_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/uuid.h"

/* pre_delinquency.assess_parallel_workers */
extern int pd_assess_parallel_workers;

/*
 * pd_compute_features for ids[0..n) as of 'as_of', by this backend and up
 * to pd_assess_parallel_workers parallel workers, in two steps so the
 * backend can do other work while the workers compute. pd_features_start
 * launches them; the backend is then in parallel mode (no new command id,
 * no nextval, no SPI that writes, and nothing written to a table the
 * features read). pd_features_finish has the backend compute what is left,
 * puts the features into 'features' (PD_NUM_FEATURES doubles a customer),
 * waits for the workers and leaves parallel mode. 'ids' must stay valid
 * until then. Without workers, pd_features_finish computes them all.
 */
typedef struct PdFeatureJob PdFeatureJob;
extern PdFeatureJob *pd_features_start(const pg_uuid_t *ids, TimestampTz as_of,
                                       int n);
extern void pd_features_finish(PdFeatureJob *job, double *features);

#endif
