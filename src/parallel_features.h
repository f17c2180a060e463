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
 * to pd_assess_parallel_workers parallel workers. pd_features_start
 * launches the workers; the backend is then in parallel mode until
 * pd_features_finish (no new command id, no nextval, no SPI that writes,
 * and nothing written to a table the features read). pd_features_wait
 * returns the features (PD_NUM_FEATURES doubles a customer, valid until
 * pd_features_finish) once those of the first 'upto' customers are
 * computed, computing chunks itself meanwhile as long as that does not
 * leave it with more of its own work than the workers have left. Without
 * workers, the backend computes them as they are waited for.
 */
typedef struct PdFeatureJob PdFeatureJob;
extern PdFeatureJob *pd_features_start(const pg_uuid_t *ids, TimestampTz as_of,
                                       int n);
extern const double *pd_features_wait(PdFeatureJob *job, int upto);
extern void pd_features_finish(PdFeatureJob *job);

#endif
