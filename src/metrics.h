/*
 * metrics.h
 *    How good a probability is at telling labelled observations apart:
 *    ROC AUC, average precision, log loss, Brier score, a calibration table,
 *    the composite baseline and feature importance, as JSON for the models
 *    table and evaluate_model.
 */
#ifndef PD_METRICS_H
#define PD_METRICS_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"

#include <xgboost/c_api.h>

#define PD_CALIBRATION_BINS 10

typedef struct PdCalibrationBin
{
	int n;
	double mean_predicted;
	double observed_rate;
} PdCalibrationBin;

typedef struct PdMetrics
{
	int n;
	int positives;
	double roc_auc;  /* NaN when only one class is present */
	double pr_auc;   /* average precision; NaN without positives */
	double log_loss; /* probabilities clipped to [1e-15, 1 - 1e-15] */
	double brier;
	double ece; /* expected calibration error over the bins below */
	PdCalibrationBin bins[PD_CALIBRATION_BINS]; /* [0, 0.1), ..., [0.9, 1] */
} PdMetrics;

/*
 * ROC AUC of 'scores' for 0/1 'labels' (ties count one half, as in the
 * Mann-Whitney statistic). NaN if either class is empty.
 */
extern double pd_roc_auc(const float *scores, const float *labels, int n);

/*
 * Average precision: sum over distinct thresholds, highest first, of
 * (recall gained) x precision, as scikit-learn's average_precision_score.
 * NaN without positives.
 */
extern double pd_average_precision(const float *scores, const float *labels,
                                   int n);

/* Every metric of probabilities 'p' against 0/1 'labels'. */
extern void pd_compute_metrics(const float *p, const float *labels, int n,
                               PdMetrics *m);

/*
 * Appends the metrics as JSON object members (no braces): n, positives,
 * positives_rate, roc_auc, pr_auc, log_loss, brier, ece, calibration.
 */
extern void pd_append_metrics_json(StringInfo buf, const PdMetrics *m);

/*
 * The booster's metrics on n observations (rows of PD_NUM_FEATURES features,
 * 0/1 labels) as above, and "baseline": the ROC AUC and PR AUC of the
 * hand-written financial_stress_composite used as a score on the same rows.
 */
extern void pd_append_evaluation_json(StringInfo buf, BoosterHandle booster,
                                      const float *x, const float *y, int64 n);

/*
 * The booster's feature importance as a JSON array, largest first:
 * [{"feature", "total_gain", "share"}] for the features it splits on.
 */
extern void pd_append_importance_json(StringInfo buf, BoosterHandle booster);

/* A number as JSON: null for NaN and infinities, else 6 significant digits */
extern void pd_append_json_number(StringInfo buf, double x);

/* A time in UTC, ISO 8601: "2025-06-30T00:00:00+00:00" (or "infinity"). */
extern char *pd_utc_text(TimestampTz t);

/* The same as a JSON string. */
extern void pd_append_json_time(StringInfo buf, TimestampTz t);

#endif
