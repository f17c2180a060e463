/*
 * metrics.c
 *    How good a model is on labelled observations: classification metrics
 *    of a probability against 0/1 labels, the hand-written composite as a
 *    baseline, feature importance, and their JSON form.
 *
 * The metrics are arithmetic on arrays; their definitions follow
 * scikit-learn's (roc_auc_score, average_precision_score, log_loss,
 * brier_score_loss) so that numbers can be cross-checked there. Which
 * observations are measured is training.c's business (train_model,
 * evaluate_model); predicting is scoring.c's. Knows nothing about tables.
 */
#include "postgres.h"

#include <math.h>

#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "features.h"
#include "metrics.h"
#include "scoring.h"
#include "xgb_util.h"

typedef struct Scored
{
	float score;
	float label;
} Scored;

/* highest score first */
static int
compare_descending(const void *a, const void *b)
{
	float x = ((const Scored *) a)->score;
	float y = ((const Scored *) b)->score;

	return x > y ? -1 : (x < y ? 1 : 0);
}

static Scored *
sorted_descending(const float *scores, const float *labels, int n)
{
	Scored *s = palloc_extended(sizeof(Scored) * Max(n, 1), MCXT_ALLOC_HUGE);

	for (int i = 0; i < n; i++)
	{
		s[i].score = scores[i];
		s[i].label = labels[i];
	}
	qsort(s, n, sizeof(Scored), compare_descending);
	return s;
}

double
pd_roc_auc(const float *scores, const float *labels, int n)
{
	Scored *s = sorted_descending(scores, labels, n);
	double positives = 0, negatives = 0;
	double area = 0; /* pairs (positive, negative) ranked right, ties 1/2 */

	for (int i = 0; i < n;)
	{
		double pos = 0, neg = 0;
		int j = i;

		/* one group of tied scores */
		for (; j < n && s[j].score == s[i].score; j++)
		{
			if (s[j].label > 0.5f)
				pos++;
			else
				neg++;
		}
		/* every positive above this group beats its negatives */
		area += neg * (positives + pos / 2.0);
		positives += pos;
		negatives += neg;
		i = j;
	}
	pfree(s);
	if (positives == 0 || negatives == 0)
		return NAN;
	return area / (positives * negatives);
}

double
pd_average_precision(const float *scores, const float *labels, int n)
{
	Scored *s = sorted_descending(scores, labels, n);
	double total = 0, tp = 0, seen = 0, ap = 0, last_recall = 0;

	for (int i = 0; i < n; i++)
		if (s[i].label > 0.5f)
			total++;
	for (int i = 0; i < n && total > 0;)
	{
		int j = i;

		for (; j < n && s[j].score == s[i].score; j++)
		{
			seen++;
			if (s[j].label > 0.5f)
				tp++;
		}
		ap += (tp / total - last_recall) * (tp / seen);
		last_recall = tp / total;
		i = j;
	}
	pfree(s);
	return total > 0 ? ap : NAN;
}

void
pd_compute_metrics(const float *p, const float *labels, int n, PdMetrics *m)
{
	double log_loss = 0, brier = 0, ece = 0;
	double sum_p[PD_CALIBRATION_BINS] = {0};
	double sum_y[PD_CALIBRATION_BINS] = {0};

	memset(m, 0, sizeof(*m));
	m->n = n;
	for (int i = 0; i < n; i++)
	{
		double y = labels[i] > 0.5f ? 1.0 : 0.0;
		double q = Min(Max((double) p[i], 1e-15), 1.0 - 1e-15);
		int bin = (int) floor((double) p[i] * PD_CALIBRATION_BINS);

		bin = Min(Max(bin, 0), PD_CALIBRATION_BINS - 1);
		m->positives += (int) y;
		log_loss -= y * log(q) + (1.0 - y) * log(1.0 - q);
		brier += ((double) p[i] - y) * ((double) p[i] - y);
		m->bins[bin].n++;
		sum_p[bin] += p[i];
		sum_y[bin] += y;
	}
	for (int b = 0; b < PD_CALIBRATION_BINS; b++)
	{
		PdCalibrationBin *bin = &m->bins[b];

		bin->mean_predicted = bin->n > 0 ? sum_p[b] / bin->n : NAN;
		bin->observed_rate = bin->n > 0 ? sum_y[b] / bin->n : NAN;
		if (bin->n > 0)
			ece += bin->n * fabs(bin->mean_predicted - bin->observed_rate);
	}
	m->log_loss = n > 0 ? log_loss / n : NAN;
	m->brier = n > 0 ? brier / n : NAN;
	m->ece = n > 0 ? ece / n : NAN;
	m->roc_auc = pd_roc_auc(p, labels, n);
	m->pr_auc = pd_average_precision(p, labels, n);
}

void
pd_append_json_number(StringInfo buf, double x)
{
	if (isnan(x) || isinf(x))
		appendStringInfoString(buf, "null");
	else
		appendStringInfo(buf, "%.6g", x);
}

char *
pd_utc_text(TimestampTz t)
{
	struct pg_tm tm;
	fsec_t fsec;

	if (TIMESTAMP_IS_NOBEGIN(t))
		return pstrdup("-infinity");
	if (TIMESTAMP_IS_NOEND(t) ||
	    timestamp2tm(t, NULL, &tm, &fsec, NULL, NULL) != 0)
		return pstrdup("infinity");
	return psprintf("%04d-%02d-%02dT%02d:%02d:%02d+00:00", tm.tm_year,
	                tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void
pd_append_json_time(StringInfo buf, TimestampTz t)
{
	escape_json(buf, pd_utc_text(t));
}

void
pd_append_metrics_json(StringInfo buf, const PdMetrics *m)
{
	appendStringInfo(buf, "\"n\": %d, \"positives\": %d, \"positives_rate\": ",
	                 m->n, m->positives);
	pd_append_json_number(buf, m->n > 0 ? (double) m->positives / m->n : NAN);
	appendStringInfoString(buf, ", \"roc_auc\": ");
	pd_append_json_number(buf, m->roc_auc);
	appendStringInfoString(buf, ", \"pr_auc\": ");
	pd_append_json_number(buf, m->pr_auc);
	appendStringInfoString(buf, ", \"log_loss\": ");
	pd_append_json_number(buf, m->log_loss);
	appendStringInfoString(buf, ", \"brier\": ");
	pd_append_json_number(buf, m->brier);
	appendStringInfoString(buf, ", \"ece\": ");
	pd_append_json_number(buf, m->ece);
	appendStringInfoString(buf, ", \"calibration\": [");
	for (int b = 0; b < PD_CALIBRATION_BINS; b++)
	{
		appendStringInfo(buf,
		                 "%s{\"bin\": %d, \"lower\": %.1f, \"upper\": %.1f, "
		                 "\"n\": %d, \"mean_predicted\": ",
		                 b > 0 ? ", " : "", b + 1,
		                 (double) b / PD_CALIBRATION_BINS,
		                 (double) (b + 1) / PD_CALIBRATION_BINS, m->bins[b].n);
		pd_append_json_number(buf, m->bins[b].mean_predicted);
		appendStringInfoString(buf, ", \"observed_rate\": ");
		pd_append_json_number(buf, m->bins[b].observed_rate);
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoChar(buf, ']');
}

/* ------------------------------------------------------------------------
 * A model on observations, as JSON
 * ------------------------------------------------------------------------
 */

static int
composite_index(void)
{
	for (int i = 0; i < PD_NUM_FEATURES; i++)
		if (strcmp(pd_feature_name_list[i], "financial_stress_composite") == 0)
			return i;
	elog(ERROR, "no feature named financial_stress_composite");
}

/*
 * The model's metrics on (x, y) and, under "baseline", how well the
 * hand-written financial_stress_composite ranks the same observations.
 */
void
pd_append_evaluation_json(StringInfo buf, BoosterHandle booster,
                          const float *x, const float *y, int64 n)
{
	int composite = composite_index();
	float *p = palloc_extended(Max(n, 1) * sizeof(float), MCXT_ALLOC_HUGE);
	float *baseline =
	    palloc_extended(Max(n, 1) * sizeof(float), MCXT_ALLOC_HUGE);
	PdMetrics m;

	if (n > 0)
		pd_predict(booster, x, n, p);
	for (int64 i = 0; i < n; i++)
		baseline[i] = x[i * PD_NUM_FEATURES + composite];
	pd_compute_metrics(p, y, n, &m);
	pd_append_metrics_json(buf, &m);
	appendStringInfoString(
	    buf, ", \"baseline\": {\"score\": \"financial_stress_composite\", "
	         "\"roc_auc\": ");
	pd_append_json_number(buf, pd_roc_auc(baseline, y, n));
	appendStringInfoString(buf, ", \"pr_auc\": ");
	pd_append_json_number(buf, pd_average_precision(baseline, y, n));
	appendStringInfoChar(buf, '}');
	pfree(p);
	pfree(baseline);
}

typedef struct Gain
{
	const char *feature;
	double gain;
} Gain;

static int
compare_gain(const void *a, const void *b)
{
	const Gain *x = a, *y = b;

	if (x->gain != y->gain)
		return x->gain > y->gain ? -1 : 1;
	return strcmp(x->feature, y->feature);
}

void
pd_append_importance_json(StringInfo buf, BoosterHandle booster)
{
	StringInfoData config;
	bst_ulong n, dim;
	const char **names;
	const bst_ulong *shape;
	const float *scores;
	Gain *gains;
	double total = 0;

	initStringInfo(&config);
	appendStringInfoString(&config, "{\"importance_type\": \"total_gain\", "
	                                "\"feature_names\": [");
	for (int i = 0; i < PD_NUM_FEATURES; i++)
	{
		if (i > 0)
			appendStringInfoString(&config, ", ");
		escape_json(&config, pd_feature_name_list[i]);
	}
	appendStringInfoString(&config, "]}");
	XGB_CHECK(XGBoosterFeatureScore(booster, config.data, &n, &names, &dim,
	                                &shape, &scores),
	          "computing feature importance");
	gains = palloc(sizeof(Gain) * Max(n, 1));
	for (bst_ulong i = 0; i < n; i++)
	{
		gains[i].feature = pstrdup(names[i]);
		gains[i].gain = scores[i];
		total += scores[i];
	}
	qsort(gains, n, sizeof(Gain), compare_gain);
	appendStringInfoChar(buf, '[');
	for (bst_ulong i = 0; i < n; i++)
	{
		appendStringInfoString(buf,
		                       i > 0 ? ", {\"feature\": " : "{\"feature\": ");
		escape_json(buf, gains[i].feature);
		appendStringInfoString(buf, ", \"total_gain\": ");
		pd_append_json_number(buf, gains[i].gain);
		appendStringInfoString(buf, ", \"share\": ");
		pd_append_json_number(buf, total > 0 ? gains[i].gain / total : NAN);
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoChar(buf, ']');
}
