/*
 * model_check.c
 *    The structural check of a booster before XGBoost walks its trees.
 *
 * XGBoost 1.7 loads a model without checking its trees' node and feature
 * indices, and predicting (or explaining) with a tree whose child points
 * outside the tree, or whose split reads feature 2,000,000,000, reads out
 * of bounds and crashes the backend: with the workers preloaded, at every
 * restart (they score a row to warm up). A model is data an operator may
 * write (models.booster), so every booster is checked here, on XGBoost's
 * own JSON dump, when it is loaded: only tree boosters with one output,
 * every tree's arrays as long as its node count says, every child index
 * inside the tree, every node reached once from the root (no cycle, no
 * shared subtree), every parent link consistent, every split on one of the
 * model's features, no categorical split. Knows nothing about SQL.
 *
 * The check costs about 12 ms for the shipped model (XGBoost's dump, then
 * json-c's parse), once per backend and model, which was most of a new
 * connection's first score_customer. So a booster that passed is
 * remembered, when the library is preloaded, in shared memory by the
 * SHA-256 of its stored bytes and XGBoost's version: the same bytes load
 * into the same trees, and the other backends skip the check. Only this
 * file writes that list, and only after a check passed; different bytes
 * (a single one changed) are checked again.
 */
#include "postgres.h"

#include "common/cryptohash.h"
#include "common/sha2.h"
#include "storage/shmem.h"
#include "storage/spin.h"

#include "xgb_json.h"
#include "xgb_util.h"

/* Digests of boosters that passed; the oldest is replaced when full. */
#define CHECKED_BOOSTERS 64

typedef struct CheckedBoosters
{
	slock_t mutex;
	int count;
	int next; /* the slot the next digest takes */
	uint8 digests[CHECKED_BOOSTERS][PG_SHA256_DIGEST_LENGTH];
} CheckedBoosters;

static CheckedBoosters *checked = NULL; /* NULL: not preloaded */

/* The arrays XGBoost reads per node, each num_nodes long. */
static const char *const node_arrays[] = {
    "left_children", "right_children",   "parents",
    "split_indices", "split_conditions", "default_left",
    "base_weights",  "sum_hessian",      "loss_changes"};

#define ROOT_PARENT 2147483647 /* XGBoost's "no parent", as it dumps it */

static void
refuse(int model_id, const char *problem)
{
	ereport(ERROR,
	        (errcode(ERRCODE_DATA_CORRUPTED),
	         errmsg("the booster of model %d is malformed", model_id),
	         errdetail("%s", problem),
	         errhint("Store a model saved by XGBoost itself (e.g. trained by "
	                 "train_model), or activate another model.")));
}

static int
array_length(json_object *tree, const char *name)
{
	json_object *a = pd_json_member(tree, name);

	return a != NULL && json_object_is_type(a, json_type_array)
	           ? (int) json_object_array_length(a)
	           : -1;
}

/* The tree's problem, or NULL if XGBoost can walk it safely. */
static const char *
tree_problem(json_object *tree, int nfeatures)
{
	json_object *left = pd_json_member(tree, "left_children");
	json_object *right = pd_json_member(tree, "right_children");
	json_object *parents = pd_json_member(tree, "parents");
	json_object *features = pd_json_member(tree, "split_indices");
	json_object *types = pd_json_member(tree, "split_type");
	const char *n_text = json_object_get_string(
	    pd_json_member(pd_json_member(tree, "tree_param"), "num_nodes"));
	int n = n_text != NULL ? atoi(n_text) : 0;
	int *stack;
	bool *seen;
	int top = 0;

	if (n < 1 || n > 1 << 24)
		return "num_nodes is missing or out of range";
	for (int a = 0; a < lengthof(node_arrays); a++)
		if (array_length(tree, node_arrays[a]) != n)
			return psprintf("%s does not have its %d nodes", node_arrays[a],
			                n);
	if (types != NULL && (array_length(tree, "split_type") != n ||
	                      array_length(tree, "categories_nodes") > 0))
		return "it has categorical splits";
	if (!pd_json_member_is(pd_json_member(tree, "tree_param"),
	                       "size_leaf_vector", "0"))
		return "it has vector leaves";
	if (pd_json_int_at(parents, 0) != ROOT_PARENT &&
	    pd_json_int_at(parents, 0) != -1)
		return "its root has a parent";

	stack = palloc(sizeof(int) * n);
	seen = palloc0(sizeof(bool) * n);
	stack[top++] = 0;
	while (top > 0)
	{
		int node = stack[--top];
		int l = pd_json_int_at(left, node);
		int r = pd_json_int_at(right, node);
		int f = pd_json_int_at(features, node);

		if (seen[node])
			return psprintf("node %d is reached twice", node);
		seen[node] = true;
		if (l == -1 && r == -1)
			continue; /* a leaf */
		if (l < 0 || l >= n || r < 0 || r >= n || l == r)
			return psprintf("node %d has children %d and %d, "
			                "outside its %d nodes",
			                node, l, r, n);
		if (pd_json_int_at(parents, l) != node ||
		    pd_json_int_at(parents, r) != node)
			return psprintf("node %d is not its children's parent", node);
		if (f < 0 || f >= nfeatures)
			return psprintf("node %d splits on feature %d; the "
			                "model has %d",
			                node, f, nfeatures);
		if (types != NULL && pd_json_int_at(types, node) != 0)
			return "it has categorical splits";
		stack[top++] = r;
		stack[top++] = l;
	}
	return NULL;
}

/* The gbtree model (trees, tree_info) of a gbtree or dart booster. */
static json_object *
trees_model(json_object *booster, int model_id)
{
	if (pd_json_member_is(booster, "name", "gbtree"))
		return pd_json_member(booster, "model");
	if (pd_json_member_is(booster, "name", "dart"))
		return pd_json_member(pd_json_member(booster, "gbtree"), "model");
	refuse(model_id, "Only tree boosters (gbtree, dart) can be scored.");
	return NULL; /* not reached */
}

static void
check_model(json_object *root, int model_id, int nfeatures)
{
	json_object *learner = pd_json_member(root, "learner");
	json_object *params = pd_json_member(learner, "learner_model_param");
	json_object *model =
	    trees_model(pd_json_member(learner, "gradient_booster"), model_id);
	json_object *trees = pd_json_member(model, "trees");
	json_object *info = pd_json_member(model, "tree_info");
	int ntrees;

	if (!pd_json_member_is(params, "num_class", "0") ||
	    (pd_json_member(params, "num_target") != NULL &&
	     !pd_json_member_is(params, "num_target", "1")))
		refuse(model_id, "The model has more than one output.");
	if (trees == NULL || !json_object_is_type(trees, json_type_array) ||
	    info == NULL || !json_object_is_type(info, json_type_array))
		refuse(model_id, "The model has no list of trees.");
	ntrees = json_object_array_length(trees);
	if ((int) json_object_array_length(info) != ntrees)
		refuse(model_id, "The model's tree_info does not list its trees.");
	for (int j = 0; j < ntrees; j++)
	{
		const char *problem;

		if (pd_json_int_at(info, j) != 0)
			refuse(model_id, "The model has more than one output.");
		problem = tree_problem(json_object_array_get_idx(trees, j), nfeatures);
		if (problem != NULL)
			refuse(model_id, psprintf("Tree %d: %s.", j, problem));
	}
}

static void
check_booster_trees(BoosterHandle booster, int model_id)
{
	const char *json;
	bst_ulong len;
	bst_ulong nfeatures;
	json_tokener *tok;
	json_object *volatile root = NULL;

	XGB_CHECK(XGBoosterGetNumFeature(booster, &nfeatures),
	          "reading the model's feature count");
	XGB_CHECK(XGBoosterSaveModelToBuffer(booster, "{\"format\": \"json\"}",
	                                     &len, &json),
	          "reading the model's trees");
	tok = json_tokener_new_ex(64);
	root = json_tokener_parse_ex(tok, json, (int) len);
	json_tokener_free(tok);
	if (root == NULL)
		refuse(model_id, "XGBoost's dump of it is not JSON.");
	PG_TRY();
	{
		check_model(root, model_id, (int) nfeatures);
	}
	PG_FINALLY();
	{
		json_object_put(root);
	}
	PG_END_TRY();
}

/*
 * The SHA-256 of XGBoost's version and the stored bytes; false if the hash
 * could not be computed (then the booster is simply checked).
 */
static bool
booster_digest(const char *bytes, size_t len, uint8 *digest)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	int version[3];
	bool ok;

	XGBoostVersion(&version[0], &version[1], &version[2]);
	ok = ctx != NULL && pg_cryptohash_init(ctx) == 0 &&
	     pg_cryptohash_update(ctx, (const uint8 *) version, sizeof(version)) ==
	         0 &&
	     pg_cryptohash_update(ctx, (const uint8 *) bytes, len) == 0 &&
	     pg_cryptohash_final(ctx, digest, PG_SHA256_DIGEST_LENGTH) == 0;
	pg_cryptohash_free(ctx);
	return ok;
}

static bool
checked_before(const uint8 *digest)
{
	bool found = false;

	SpinLockAcquire(&checked->mutex);
	for (int i = 0; i < checked->count && !found; i++)
		found =
		    memcmp(checked->digests[i], digest, PG_SHA256_DIGEST_LENGTH) == 0;
	SpinLockRelease(&checked->mutex);
	return found;
}

static void
remember_checked(const uint8 *digest)
{
	SpinLockAcquire(&checked->mutex);
	memcpy(checked->digests[checked->next], digest, PG_SHA256_DIGEST_LENGTH);
	checked->next = (checked->next + 1) % CHECKED_BOOSTERS;
	checked->count = Min(checked->count + 1, CHECKED_BOOSTERS);
	SpinLockRelease(&checked->mutex);
}

void
pd_check_booster(BoosterHandle booster, int model_id, const char *bytes,
                 size_t len)
{
	uint8 digest[PG_SHA256_DIGEST_LENGTH];
	bool remembered = checked != NULL && booster_digest(bytes, len, digest);

	if (remembered && checked_before(digest))
	{
		ereport(DEBUG1, (errmsg_internal("the booster of model %d passed the "
		                                 "structural check before",
		                                 model_id)));
		return;
	}
	check_booster_trees(booster, model_id);
	if (remembered)
		remember_checked(digest);
}

/* Shared memory ---------------------------------------------------------- */

Size
pd_model_check_shmem_size(void)
{
	return MAXALIGN(sizeof(CheckedBoosters));
}

void
pd_model_check_shmem_attach(void)
{
	bool found;

	checked = ShmemInitStruct("pre_delinquency checked boosters",
	                          sizeof(CheckedBoosters), &found);
	if (!found)
	{
		memset(checked, 0, sizeof(CheckedBoosters));
		SpinLockInit(&checked->mutex);
	}
}
