/*
 * shap_batch.c
 *    XGBoost's exact TreeSHAP contributions for many rows at once, without
 *    running XGBoost's per-row recursion over every tree for every row.
 *
 * Why it is exact: XGBoost's TreeSHAP (RegTree::TreeShap, 1.7) reads a row
 * only through the branch ("hot" child) each split of a tree sends it to, so
 * two rows that every split of tree j sends the same way get the same
 * contributions from tree j, bit for bit. XGBoost then sums the trees'
 * contributions in tree order, in float, from 0, and adds the base score to
 * the bias, which is therefore the same for every row
 * (CPUPredictor::PredictContribution). So this file reads the splits from
 * the model's JSON, gives each row a signature per tree (one bit per split:
 * which branch it takes), asks XGBoost, through a one-tree slice of the
 * booster, for the contributions of one row per signature not seen before,
 * remembers them while the model stays loaded, and sums them in XGBoost's
 * order. Every number is XGBoost's; only the grouping is ours. For a model
 * of 300 trees of depth 3 a tree has at most 128 signatures, so after the
 * first batch almost no row needs XGBoost's recursion. A tree gives
 * contributions only to the features it splits on, so an entry keeps only
 * those (a few floats, not 31: the entries then stay in the cache), and the
 * others' sums are left alone: adding XGBoost's 0 to a float sum that
 * started at +0 never changes it.
 *
 * Getting there costs: reading the model (XGBoost's JSON dump, parsed) and
 * the first row's call per tree took 41 ms for the shipped model, against
 * 0.4 ms a row for XGBoost's own recursion. So a backend's rows go
 * straight through XGBoost until GROUP_AFTER rows (one batch or many) make
 * the grouping pay: a session calling assess_customer a few times never
 * pays for it, assess_all's first batch of 256 does at once, and the
 * ingest worker asks for it when it starts (pd_prepare_batch_contributions).
 *
 * Trust but verify: every VERIFY_EVERY rows one row goes through XGBoost
 * over the whole model and must agree bit for bit; if it ever does not, a
 * WARNING says so and the model's rows go through XGBoost from then on.
 * Models the grouping does not cover (not gbtree, several outputs or
 * parallel trees, categorical splits, trees of more than 64 splits) always
 * go through XGBoost. Knows nothing about features, risk levels or SQL.
 */
#include "postgres.h"

#include <math.h>

#include <json-c/json.h>

#include "utils/memutils.h"

#include "features.h"
#include "scoring.h"
#include "shap_batch.h"
#include "xgb_json.h"
#include "xgb_util.h"

#define NCOL          (PD_NUM_FEATURES + 1)
#define MAX_SPLITS    64        /* a signature has one bit per split */
#define DIRECT_SPLITS 10        /* up to here a signature is its own slot */
#define MAX_VALUES    (1 << 23) /* floats of remembered entries: 32 MB */
#define VERIFY_EVERY  2000      /* rows between two checks against XGBoost */
#define BLOCK         256       /* rows summed together */
#define GROUP_AFTER   128       /* rows before the grouping pays (above) */

typedef struct Split
{
	int feature;
	float threshold;
	bool missing_right; /* where a missing value (NaN) goes */
} Split;

typedef struct ShapTree
{
	int nsplits;
	Split *splits;                   /* the splits reachable from the root */
	int nfeatures;                   /* the distinct features they split on */
	uint8 features[PD_NUM_FEATURES]; /* ascending */
	bool splits_on[PD_NUM_FEATURES];
	BoosterHandle slice; /* this tree alone, made on first need */
	/*
	 * signature -> entry: with few splits (depth 3 has 7), a table of
	 * 2^nsplits entries indexed by the signature itself ('direct', keys
	 * unused); otherwise open addressing, capacity a power of two
	 */
	bool direct;
	uint64 *keys;
	int32 *entries; /* -1: empty slot */
	int capacity;
	int count;
} ShapTree;

typedef struct ShapModel
{
	uint64 generation;
	bool usable; /* false: every row goes through XGBoost */
	int ntrees;
	ShapTree *trees;
	bool have_bias;
	float bias; /* the bias column, the same for every row */
	/* entry e of tree t: t's nfeatures floats from values + e */
	float *values;
	int nvalues;
	int capacity; /* of values */
	int64 rows_since_check;
	int64 checks;
} ShapModel;

static MemoryContext shap_cxt = NULL;
static ShapModel *model = NULL;
/* rows of the booster of 'direct_generation' sent straight to XGBoost */
static uint64 direct_generation = 0;
static int64 direct_rows = 0;

/* Frees the slices when the model's memory goes (reset or delete). */
static void
free_slices(void *arg)
{
	ShapModel *m = (ShapModel *) arg;

	for (int j = 0; j < m->ntrees; j++)
		if (m->trees[j].slice != NULL)
			XGBoosterFree(m->trees[j].slice);
	model = NULL;
}

static void
forget_model(void)
{
	if (shap_cxt != NULL)
		MemoryContextReset(shap_cxt);
	model = NULL;
}

/*
 * A tree's splits reachable from the root, or false if the grouping cannot
 * cover it. The threshold is read from XGBoost's shortest decimal with
 * strtof, which gives back the float XGBoost compares with.
 */
static bool
read_tree(json_object *tree, ShapTree *out)
{
	json_object *left = pd_json_member(tree, "left_children");
	json_object *right = pd_json_member(tree, "right_children");
	json_object *features = pd_json_member(tree, "split_indices");
	json_object *conditions = pd_json_member(tree, "split_conditions");
	json_object *default_left = pd_json_member(tree, "default_left");
	json_object *types = pd_json_member(tree, "split_type");
	int nnodes;
	int stack[2 * MAX_SPLITS + 2];
	int top = 0;

	if (left == NULL || right == NULL || features == NULL ||
	    conditions == NULL || default_left == NULL)
		return false;
	nnodes = json_object_array_length(left);
	out->splits = palloc(sizeof(Split) * MAX_SPLITS);
	out->nsplits = 0;
	stack[top++] = 0;
	while (top > 0)
	{
		int node = stack[--top];
		int l = pd_json_int_at(left, node);
		Split *s;

		if (node < 0 || node >= nnodes)
			return false;
		if (l == -1)
			continue; /* a leaf */
		if (out->nsplits == MAX_SPLITS ||
		    (types != NULL && pd_json_int_at(types, node) != 0))
			return false;
		s = &out->splits[out->nsplits++];
		s->feature = pd_json_int_at(features, node);
		s->threshold = strtof(json_object_get_string(
		                          json_object_array_get_idx(conditions, node)),
		                      NULL);
		s->missing_right = !json_object_get_boolean(
		    json_object_array_get_idx(default_left, node));
		if (s->feature < 0 || s->feature >= PD_NUM_FEATURES)
			return false;
		out->splits_on[s->feature] = true;
		stack[top++] = pd_json_int_at(right, node);
		stack[top++] = l;
	}
	out->nfeatures = 0;
	for (int f = 0; f < PD_NUM_FEATURES; f++)
		if (out->splits_on[f])
			out->features[out->nfeatures++] = f;
	out->direct = out->nsplits <= DIRECT_SPLITS;
	out->capacity = out->direct ? 1 << out->nsplits : 16;
	out->count = 0;
	out->keys = palloc(sizeof(uint64) * out->capacity);
	out->entries = palloc(sizeof(int32) * out->capacity);
	memset(out->entries, -1, sizeof(int32) * out->capacity);
	out->slice = NULL;
	return true;
}

/* The trees of a single-output gbtree model, or false. */
static bool
read_model(ShapModel *m, const char *json, bst_ulong len)
{
	json_tokener *tok = json_tokener_new_ex(64);
	json_object *root = json_tokener_parse_ex(tok, json, (int) len);
	json_object *learner = pd_json_member(root, "learner");
	json_object *booster = pd_json_member(learner, "gradient_booster");
	json_object *trees_model = pd_json_member(booster, "model");
	json_object *trees = pd_json_member(trees_model, "trees");
	json_object *info = pd_json_member(trees_model, "tree_info");
	bool ok =
	    root != NULL && pd_json_member_is(booster, "name", "gbtree") &&
	    pd_json_member_is(pd_json_member(trees_model, "gbtree_model_param"),
	                      "num_parallel_tree", "1") &&
	    pd_json_member_is(pd_json_member(learner, "learner_model_param"),
	                      "num_class", "0") &&
	    trees != NULL && info != NULL && json_object_array_length(trees) > 0;

	json_tokener_free(tok);
	if (ok)
	{
		m->ntrees = json_object_array_length(trees);
		m->trees = palloc0(sizeof(ShapTree) * m->ntrees);
		for (int j = 0; ok && j < m->ntrees; j++)
			ok = pd_json_int_at(info, j) == 0 &&
			     read_tree(json_object_array_get_idx(trees, j), &m->trees[j]);
		if (!ok)
			m->ntrees = 0;
	}
	if (root != NULL)
		json_object_put(root);
	return ok;
}

/* What we know about the booster of this generation, read on first use. */
static ShapModel *
shap_model(BoosterHandle booster, uint64 generation)
{
	MemoryContext old;
	ShapModel *m;
	const char *json;
	bst_ulong len;

	if (model != NULL && model->generation == generation)
		return model;
	if (shap_cxt == NULL)
		shap_cxt = AllocSetContextCreate(TopMemoryContext,
		                                 "pre_delinquency SHAP groups",
		                                 ALLOCSET_DEFAULT_SIZES);
	forget_model();
	old = MemoryContextSwitchTo(shap_cxt);
	m = palloc0(sizeof(ShapModel));
	m->generation = generation;
	XGB_CHECK(XGBoosterSaveModelToBuffer(booster, "{\"format\": \"json\"}",
	                                     &len, &json),
	          "reading the model's trees");
	m->usable = read_model(m, json, len);
	if (m->usable)
	{
		MemoryContextCallback *cb = palloc(sizeof(MemoryContextCallback));

		cb->func = free_slices;
		cb->arg = m;
		MemoryContextRegisterResetCallback(shap_cxt, cb);
		m->capacity = 8192;
		m->values = palloc(sizeof(float) * m->capacity);
	}
	MemoryContextSwitchTo(old);
	model = m;
	return m;
}

/* One bit per split: 1 when the row goes right ("hot" is the right child). */
static inline uint64
signature(const ShapTree *t, const float *row)
{
	uint64 sig = 0;

	for (int k = 0; k < t->nsplits; k++)
	{
		const Split *s = &t->splits[k];
		float v = row[s->feature];
		/* no branch: NaN compares false both ways */
		bool right = (v >= s->threshold) | (isnan(v) & s->missing_right);

		sig |= (uint64) right << k;
	}
	return sig;
}

static inline uint32
slot_of(uint64 sig, int capacity)
{
	return (uint32) ((sig * UINT64CONST(0x9E3779B97F4A7C15)) >> 32) &
	       (capacity - 1);
}

static void
grow_table(ShapTree *t)
{
	uint64 *keys = t->keys;
	int32 *entries = t->entries;
	int capacity = t->capacity;

	t->capacity *= 2;
	t->keys = MemoryContextAlloc(shap_cxt, sizeof(uint64) * t->capacity);
	t->entries = MemoryContextAlloc(shap_cxt, sizeof(int32) * t->capacity);
	memset(t->entries, -1, sizeof(int32) * t->capacity);
	for (int i = 0; i < capacity; i++)
		if (entries[i] >= 0)
		{
			uint32 s = slot_of(keys[i], t->capacity);

			while (t->entries[s] >= 0)
				s = (s + 1) & (t->capacity - 1);
			t->keys[s] = keys[i];
			t->entries[s] = entries[i];
		}
	pfree(keys);
	pfree(entries);
}

/*
 * The entry of 'sig' in tree t; a new one (values not yet filled) with
 * *fresh set if the signature is new.
 */
static int32
entry_of(ShapModel *m, ShapTree *t, uint64 sig, bool *fresh)
{
	uint32 s;
	int32 e = m->nvalues;

	*fresh = false;
	if (t->direct)
	{
		s = (uint32) sig;
		if (t->entries[s] >= 0)
			return t->entries[s];
	}
	else
		for (s = slot_of(sig, t->capacity);; s = (s + 1) & (t->capacity - 1))
		{
			if (t->entries[s] < 0)
				break;
			if (t->keys[s] == sig)
				return t->entries[s];
		}
	if (m->nvalues + t->nfeatures > m->capacity)
	{
		m->capacity *= 2;
		m->values = repalloc(m->values, sizeof(float) * m->capacity);
	}
	m->nvalues += t->nfeatures;
	t->keys[s] = sig;
	t->entries[s] = e;
	*fresh = true;
	if (2 * ++t->count > t->capacity && !t->direct)
		grow_table(t);
	return e;
}

/* Forgets every signature (a bound on memory), keeping trees and slices. */
static void
forget_signatures(ShapModel *m)
{
	for (int j = 0; j < m->ntrees; j++)
	{
		memset(m->trees[j].entries, -1, sizeof(int32) * m->trees[j].capacity);
		m->trees[j].count = 0;
	}
	m->nvalues = 0;
}

/* XGBoost's contributions of tree j alone for the rows 'which' of 'rows'. */
static void
tree_contributions(ShapTree *t, int j, BoosterHandle booster,
                   const float *rows, const int *which, int n, float *out)
{
	float *x = palloc(sizeof(float) * PD_NUM_FEATURES * n);

	if (t->slice == NULL)
	{
		BoosterHandle slice = NULL;

		XGB_CHECK(XGBoosterSlice(booster, j, j + 1, 1, &slice),
		          "slicing one tree out of the model");
		t->slice = slice;
		XGB_CHECK(XGBoosterSetParam(slice, "nthread", "1"), "setting nthread");
	}
	for (int i = 0; i < n; i++)
		memcpy(x + i * PD_NUM_FEATURES, rows + which[i] * PD_NUM_FEATURES,
		       sizeof(float) * PD_NUM_FEATURES);
	pd_contributions(t->slice, x, n, out);
	pfree(x);
}

/*
 * A fresh entry of tree t from XGBoost's contributions of one row: the
 * features t splits on. False if XGBoost gave any other feature anything
 * but 0 (then the grouping does not hold for this model).
 */
static bool
fill_entry(const ShapTree *t, const float *contributions, float *entry)
{
	for (int f = 0; f < PD_NUM_FEATURES; f++)
		if (!t->splits_on[f] && contributions[f] != 0)
			return false;
	for (int k = 0; k < t->nfeatures; k++)
		entry[k] = contributions[t->features[k]];
	return true;
}

/*
 * The grouped computation, a block of rows at a time: the block's sums and
 * one tree's entries stay in the first-level cache while the tree is added.
 * False if a tree turned out to give contributions to a feature it does not
 * split on. Any ERROR or false leaves half-made entries behind.
 */
static bool
grouped_contributions(ShapModel *m, BoosterHandle booster, const float *rows,
                      int nrow, float *out)
{
	int32 *entry = palloc(sizeof(int32) * BLOCK);
	int *fresh_rows = palloc(sizeof(int) * BLOCK);
	int32 *fresh_entries = palloc(sizeof(int32) * BLOCK);
	float *fresh_values = palloc(sizeof(float) * NCOL * BLOCK);
	float(*sums)[PD_NUM_FEATURES] =
	    palloc(sizeof(float) * PD_NUM_FEATURES * BLOCK);

	for (int b = 0; b < nrow; b += BLOCK)
	{
		int nb = Min(BLOCK, nrow - b);
		const float *block = rows + b * PD_NUM_FEATURES;

		/* a bound on memory; earlier blocks are summed already */
		if (m->nvalues + nb * PD_NUM_FEATURES > MAX_VALUES)
			forget_signatures(m);
		memset(sums, 0, sizeof(float) * PD_NUM_FEATURES * nb);
		for (int j = 0; j < m->ntrees; j++)
		{
			ShapTree *t = &m->trees[j];
			int nfresh = 0;

			for (int r = 0; r < nb; r++)
			{
				bool fresh;

				entry[r] = entry_of(
				    m, t, signature(t, block + r * PD_NUM_FEATURES), &fresh);
				if (fresh)
				{
					fresh_rows[nfresh] = r;
					fresh_entries[nfresh++] = entry[r];
				}
			}
			if (nfresh > 0)
			{
				tree_contributions(t, j, booster, block, fresh_rows, nfresh,
				                   fresh_values);
				for (int i = 0; i < nfresh; i++)
					if (!fill_entry(t, fresh_values + i * NCOL,
					                m->values + fresh_entries[i]))
						return false;
			}
			/* XGBoost's order: per row, tree after tree, in float, from 0 */
			for (int r = 0; r < nb; r++)
			{
				const float *v = m->values + entry[r];

				for (int k = 0; k < t->nfeatures; k++)
					sums[r][t->features[k]] += v[k];
			}
		}
		for (int r = 0; r < nb; r++)
			memcpy(out + (b + r) * NCOL, sums[r],
			       sizeof(float) * PD_NUM_FEATURES);
	}
	pfree(entry);
	pfree(fresh_rows);
	pfree(fresh_entries);
	pfree(fresh_values);
	pfree(sums);
	return true;
}

/*
 * One row through XGBoost over the whole model: it gives the bias, and the
 * row must agree bit for bit with the grouped result. Returns false if not.
 */
static bool
check_row(ShapModel *m, BoosterHandle booster, const float *rows, int nrow,
          float *out)
{
	int r = (int) (m->checks++ % nrow);
	float full[NCOL];

	pd_contributions(booster, rows + r * PD_NUM_FEATURES, 1, full);
	if (!m->have_bias)
	{
		m->bias = full[PD_NUM_FEATURES];
		m->have_bias = true;
		for (int i = 0; i < nrow; i++)
			out[i * NCOL + PD_NUM_FEATURES] = m->bias;
	}
	m->rows_since_check = 0;
	return memcmp(full, out + r * NCOL, sizeof(full)) == 0;
}

/* True while this booster's rows should rather go straight to XGBoost. */
static bool
grouping_not_yet(uint64 generation, int nrow)
{
	if (model != NULL && model->generation == generation)
		return false; /* read already */
	if (direct_generation != generation)
	{
		direct_generation = generation;
		direct_rows = 0;
	}
	direct_rows += nrow;
	return direct_rows < GROUP_AFTER;
}

void
pd_prepare_batch_contributions(BoosterHandle booster, uint64 generation)
{
	(void) shap_model(booster, generation);
}

void
pd_batch_contributions(BoosterHandle booster, uint64 generation,
                       const float *rows, int nrow, float *contributions)
{
	ShapModel *volatile m;

	if (nrow == 0)
		return;
	if (grouping_not_yet(generation, nrow))
	{
		pd_contributions(booster, rows, nrow, contributions);
		return;
	}
	m = shap_model(booster, generation);
	if (!m->usable)
	{
		pd_contributions(booster, rows, nrow, contributions);
		return;
	}
	PG_TRY();
	{
		bool grouped =
		    grouped_contributions(m, booster, rows, nrow, contributions);

		for (int i = 0; i < nrow; i++)
			contributions[i * NCOL + PD_NUM_FEATURES] = m->bias;
		if (!grouped || !m->have_bias ||
		    m->rows_since_check + nrow >= VERIFY_EVERY)
		{
			if (!grouped || !check_row(m, booster, rows, nrow, contributions))
			{
				m->usable = false;
				ereport(WARNING,
				        (errmsg("grouped SHAP contributions disagree with "
				                "XGBoost's; computing them row by row"),
				         errdetail("This model's rows go through XGBoost's "
				                   "TreeSHAP from now on."),
				         errhint("Report it with the model and the XGBoost "
				                 "version.")));
				pd_contributions(booster, rows, nrow, contributions);
			}
		}
		else
			m->rows_since_check += nrow;
	}
	PG_CATCH();
	{
		forget_model(); /* entries may be reserved but not filled */
		PG_RE_THROW();
	}
	PG_END_TRY();
}
