#!/usr/bin/env bash
# make model: the model shipped with the extension, from scratch.
#
#   1. build and install; start the scratch cluster (PD_PORT, default 55432)
#   2. a training bank: generate_synthetic(10000 customers, 730 days, seed 42)
#   3. train_model() on it (80/20 split by customer, seed 42)
#   4. a held-out bank of ANOTHER seed (4000 customers, seed 4242) in another
#      database; evaluate_model() there, next to the financial_stress_composite
#      baseline
#   5. models/pre_delinquency_model.json (what CREATE EXTENSION installs as the
#      active model) and models/MODEL_CARD.md, then make install again
#
# The files are replaced only if the held-out metrics meet the targets
# (ROC AUC in [0.85, 0.99), ECE <= 0.05, better than the composite on ROC AUC
# and PR AUC); PD_MODEL_FORCE=1 writes them anyway. PD_MODEL_KEEP=1 keeps the
# databases. Everything is deterministic: the same source gives the same
# booster, byte for byte.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$PD_ROOT"

MODEL_NAME=synthetic-seed42-v1
END_TIME='2025-06-30 00:00+00'
TRAIN_CUSTOMERS=10000 TRAIN_DAYS=730 TRAIN_SEED=42
HELDOUT_CUSTOMERS=4000 HELDOUT_DAYS=730 HELDOUT_SEED=4242
TRAIN_DB=pd_model_train HELDOUT_DB=pd_model_heldout CHECK_DB=pd_model_check
OUT_JSON=models/pre_delinquency_model.json
OUT_CARD=models/MODEL_CARD.md
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The model card, as one query over the temp table m (the stored model and
# its held-out evaluation) of the session that writes the model file.
write_card_sql() {
	cat >"$1" <<'SQL'
WITH h AS (SELECT heldout AS e, metrics AS t, params AS p, training AS tr, name FROM m)
SELECT array_to_string(ARRAY[
'# Model card: ' || name,
'',
'The XGBoost model shipped with pre_delinquency: `CREATE EXTENSION pre_delinquency` installs',
'`models/pre_delinquency_model.json` as the active model, so `score_customer()`,',
'`explain_customer()` and the assessment use it from the first statement. It is regenerated, byte for',
'byte, by `make model` (`scripts/train_model.sh`).',
'',
'## What it predicts',
'',
'The probability that a customer has a loan instalment due in the next 30 days that ends up missed,',
'paid more than 5 days late, or paid short (the label of `FEATURES.md`), from the 31 behavioural',
'features of `FEATURES.md` as of the time of scoring. Observations without a loan instalment due in',
'the next 30 days have no label and were not used.',
'',
'## Training data',
'',
format('- Bank: `pre_delinquency.%s`,', :'train_bank'),
'  the deterministic synthetic bank of `FEATURES.md` ("The synthetic bank"): salaries, bills, loan',
'  instalments, everyday spending, stress episodes whose outcomes follow from the simulated balance.',
format('- Data: %s to %s (first and last transaction).', tr->>'data_start', tr->>'data_end'),
format('- Observations: as_of at 00:00 UTC every %s days per customer, with a seeded per-customer',
       tr->'sampling'->>'every_days'),
format('  offset, from %s (%s days after the data begins)', tr->>'as_of_from', tr->'sampling'->>'history_days'),
format('  to %s (%s days before it ends: labels read the final payment record).',
       tr->>'as_of_to', tr->'sampling'->>'label_gap_days'),
format('- Split by customer (seeded hash, seed %s): %s observations (%s positive) of %s customers for',
       tr->>'seed', tr->>'n_train', tr->>'positives_train', tr->>'customers_train'),
format('  training, %s (%s positive) of %s other customers held out.',
       tr->>'n_test', tr->>'positives_test', tr->>'customers_test'),
format('- Training time: about %s s for `train_model()` (features and XGBoost, nthread 1) on the',
       :'train_seconds'),
'  machine that ran `make model`.',
'',
'## Parameters',
'',
'| parameter | value |',
'| --- | --- |',
(SELECT string_agg(format('| %s | `%s` |', k, CASE WHEN jsonb_typeof(v) = 'string' THEN v #>> '{}' ELSE v::text END), E'\n' ORDER BY k)
 FROM jsonb_each(p) x(k, v)),
'',
'Shallow trees, a slow learning rate, large leaves, L2 on the leaf weights, row and column sampling,',
'and monotone constraints (the score may not fall as a salary comes later or smaller, payments later',
'or shorter, debits fail, days below the minimum balance or the hand-written stress summaries grow)',
'so that the model learns broad behaviour rather than quirks of one bank. `base_score` is the training',
'positive rate.',
'',
'Chosen on the training bank''s held-out customers and on a validation bank of a third seed (777):',
'depth 2 to 4, eta 0.05 to 0.1, 150 to 600 rounds, with and without the monotone constraints all came',
'within about 0.003 ROC AUC of each other there, so a shallow, slow setting with the constraints was',
'kept (depth 3, eta 0.05, 300 rounds). The held-out bank below (seed 4242) was used for the final',
'numbers only.',
'',
'## Metrics',
'',
format('On a **held-out bank of another seed**, `%s`,', :'heldout_bank'),
'with `evaluate_model(model_id, ''-infinity'', ''infinity'')`:',
format('%s observations (%s positive, rate %s) of %s customers,', e->>'n', e->>'positives',
       round((e->>'positives_rate')::numeric, 4), e->>'customers'),
format('as_of %s to %s (the same sampling rule).', e->>'as_of_from', e->>'as_of_to'),
'Next to it, the hand-written feature `financial_stress_composite` used as a score on the same',
'observations, and the same metrics on the training bank''s held-out 20% of customers.',
'',
'| metric | model, held-out bank | composite, held-out bank | model, held-out 20% | composite, held-out 20% |',
'| --- | --- | --- | --- | --- |',
format('| ROC AUC | **%s** | %s | %s | %s |', round((e->>'roc_auc')::numeric, 4), round((e->'baseline'->>'roc_auc')::numeric, 4),
       round((t->>'roc_auc')::numeric, 4), round((t->'baseline'->>'roc_auc')::numeric, 4)),
format('| PR AUC (average precision) | **%s** | %s | %s | %s |', round((e->>'pr_auc')::numeric, 4), round((e->'baseline'->>'pr_auc')::numeric, 4),
       round((t->>'pr_auc')::numeric, 4), round((t->'baseline'->>'pr_auc')::numeric, 4)),
format('| log loss | %s | – | %s | – |', round((e->>'log_loss')::numeric, 4), round((t->>'log_loss')::numeric, 4)),
format('| Brier score | %s | – | %s | – |', round((e->>'brier')::numeric, 4), round((t->>'brier')::numeric, 4)),
format('| expected calibration error (10 bins) | %s | – | %s | – |', round((e->>'ece')::numeric, 4), round((t->>'ece')::numeric, 4)),
format('| observations (positive) | %s (%s) | | %s (%s) | |', e->>'n', e->>'positives', t->>'n', t->>'positives'),
'',
'The composite is a strong baseline on this bank (it sums the very signs of stress the generator',
'simulates); the model adds most where it matters for outreach, the precision among the highest',
'scores (PR AUC).',
'',
'### Calibration on the held-out bank',
'',
'| bin | predicted | observations | mean predicted | observed rate |',
'| --- | --- | --- | --- | --- |',
(SELECT string_agg(format('| %s | %s–%s | %s | %s | %s |', b->>'bin', b->>'lower', b->>'upper', b->>'n',
                          coalesce(round((b->>'mean_predicted')::numeric, 4)::text, '–'),
                          coalesce(round((b->>'observed_rate')::numeric, 4)::text, '–')), E'\n' ORDER BY (b->>'bin')::int)
 FROM jsonb_array_elements(e->'calibration') b),
'',
'## Features by total gain',
'',
'| # | feature | total gain | share |',
'| --- | --- | --- | --- |',
(SELECT string_agg(format('| %s | `%s` | %s | %s%% |', i, f->>'feature', round((f->>'total_gain')::numeric, 1),
                          round(100 * (f->>'share')::numeric, 1)), E'\n' ORDER BY i)
 FROM jsonb_array_elements(t->'feature_importance') WITH ORDINALITY x(f, i) WHERE i <= 12),
'',
format('%s of the 31 features are used at all.', jsonb_array_length(t->'feature_importance')),
'',
'## Regenerate',
'',
'```sh',
'make model                 # scratch cluster on port 55432',
'PD_PORT=55440 make model   # another port',
'```',
'',
'It builds and installs the extension, generates both banks, trains, evaluates, rewrites',
'`models/pre_delinquency_model.json` and this card only if the held-out targets are met (ROC AUC in',
'[0.85, 0.99), ECE at most 0.05, better than the composite on ROC AUC and PR AUC), installs the file',
'and checks that a new database''s active model is the trained booster byte for byte. The same source',
'gives the same booster. To train on a bank''s own data instead:',
'`SELECT pre_delinquency.train_model(''mine'', now(), ''{}'', 42)`, then `evaluate_model()` and',
'`activate_model()`.',
'',
'## Limits',
'',
'- **Synthetic data only.** It has never seen a real bank. It learnt how stress shows in one generator:',
'  monthly salaries on a fixed day, one loan instalment a month, Indian-rupee amounts, the generator''s',
'  episode types (job loss, income cut, medical, family) and how they set in. It has not seen weekly or',
'  irregular income, several loans per customer, credit-card-only borrowers, joint accounts, other',
'  currencies or spending cultures, seasonal shocks, or a bank-wide downturn.',
'- Probabilities are calibrated to the synthetic base rate (about 5% of labelled observations). On a',
'  bank with another rate the ranking may hold while the probabilities do not: measure with',
'  `evaluate_model()` and retrain with `train_model()` on the bank''s own history before acting on',
'  thresholds.',
'- It leans on the two hand-written summaries (`financial_stress_composite`,',
'  `behavioral_anomaly_count`) and on the salary features; a change to their definitions in',
'  `FEATURES.md` needs a new model.',
'- Scored as of midnight UTC in training; features need 180 days of history to be comparable, and a',
'  new customer''s first months look different from anything it was trained on.',
'- No fairness assessment was possible (the data has no protected attributes); it is an early-warning',
'  signal for outreach, not a credit decision.'], E'\n')
FROM h;
SQL
}

say "building and installing the extension"
build_and_install
say "starting the scratch PostgreSQL on port $PD_PORT"
start_scratch

generate() { # database customers days seed
	psql -qX -d "$1" -v ON_ERROR_STOP=1 <<SQL
\pset footer off
SET client_min_messages = warning;
SELECT customers, transactions, payments, round(episode_share::numeric, 3) AS episode_share,
       round(elapsed_ms::numeric / 1000, 1) AS seconds
FROM pre_delinquency.generate_synthetic($2, $3, $4, '$END_TIME');
SQL
}

say "training bank: $TRAIN_CUSTOMERS customers x $TRAIN_DAYS days, seed $TRAIN_SEED, ending $END_TIME"
fresh_database $TRAIN_DB
generate $TRAIN_DB $TRAIN_CUSTOMERS $TRAIN_DAYS $TRAIN_SEED

say "train_model('$MODEL_NAME', '$END_TIME', '{}', $TRAIN_SEED)"
started=$SECONDS
model_id=$(psql -qAtX -d $TRAIN_DB -v ON_ERROR_STOP=1 \
	-c "SELECT pre_delinquency.train_model('$MODEL_NAME', '$END_TIME', '{}', $TRAIN_SEED)")
train_seconds=$((SECONDS - started))
psql -qAtX -d $TRAIN_DB -c "SELECT format('held-out 20%%: ROC AUC %s (composite %s), PR AUC %s (composite %s), ECE %s',
	metrics->'roc_auc', metrics->'baseline'->'roc_auc', metrics->'pr_auc', metrics->'baseline'->'pr_auc',
	metrics->'ece') FROM pre_delinquency.models WHERE model_id = $model_id"

say "held-out bank: $HELDOUT_CUSTOMERS customers x $HELDOUT_DAYS days, seed $HELDOUT_SEED (another database)"
fresh_database $HELDOUT_DB
generate $HELDOUT_DB $HELDOUT_CUSTOMERS $HELDOUT_DAYS $HELDOUT_SEED
# the model row travels as COPY text (bytea in hex): byte for byte
psql -qX -d $TRAIN_DB -v ON_ERROR_STOP=1 -c "\copy (SELECT name, feature_names, booster, params, metrics, training
	FROM pre_delinquency.models WHERE model_id = $model_id) TO '$work/model.copy'"
heldout_id=$(psql -qAtX -d $HELDOUT_DB -v ON_ERROR_STOP=1 \
	-c "\copy pre_delinquency.models (name, feature_names, booster, params, metrics, training) FROM '$work/model.copy'" \
	-c "SELECT max(model_id) FROM pre_delinquency.models WHERE training->>'shipped' IS NULL")

say "evaluate_model on the held-out bank; writing the model file and its card"
cat >"$work/ship.sql" <<'SQL'
SET client_min_messages = warning;
CREATE TEMP TABLE m AS
SELECT model_id, name, feature_names, booster, params, metrics, training,
       pre_delinquency.evaluate_model(model_id, '-infinity', 'infinity') AS heldout
FROM pre_delinquency.models WHERE model_id = :id;
CREATE TEMP TABLE shipped AS
SELECT jsonb_build_object(
  'name', name,
  'feature_names', to_jsonb(feature_names),
  'booster', translate(encode(booster, 'base64'), E'\n', ''),
  'params', params,
  'metrics', heldout || jsonb_build_object(
      'evaluated_on', jsonb_build_object(
          'bank', :'heldout_bank', 'seed', :heldout_seed,
          'note', 'a bank of another seed than the training bank, not used to choose parameters'),
      'feature_importance', metrics->'feature_importance'),
  'training', (training - 'features_seconds' - 'training_seconds') || jsonb_build_object(
      'bank', :'train_bank', 'bank_seed', :train_seed,
      'xgboost', '1.7.4',
      'test_split_metrics', metrics - 'feature_importance')) AS j
FROM m;
\o :json_file
SELECT jsonb_pretty(j) FROM shipped;
\o :card_file
\i :card_sql
\o
-- the targets: what|value|met
SELECT 'ROC AUC in [0.85, 0.99)', heldout->>'roc_auc',
       (heldout->>'roc_auc')::float8 >= 0.85 AND (heldout->>'roc_auc')::float8 < 0.99 FROM m
UNION ALL SELECT 'ECE <= 0.05', heldout->>'ece', (heldout->>'ece')::float8 <= 0.05 FROM m
UNION ALL SELECT 'ROC AUC > composite''s ' || (heldout->'baseline'->>'roc_auc'), heldout->>'roc_auc',
       (heldout->>'roc_auc')::float8 > (heldout->'baseline'->>'roc_auc')::float8 FROM m
UNION ALL SELECT 'PR AUC > composite''s ' || (heldout->'baseline'->>'pr_auc'), heldout->>'pr_auc',
       (heldout->>'pr_auc')::float8 > (heldout->'baseline'->>'pr_auc')::float8 FROM m;
SQL
write_card_sql "$work/card.sql"
psql -qAtX -d $HELDOUT_DB -v ON_ERROR_STOP=1 -v id="$heldout_id" \
	-v heldout_bank="generate_synthetic($HELDOUT_CUSTOMERS, $HELDOUT_DAYS, $HELDOUT_SEED, '$END_TIME')" \
	-v heldout_seed=$HELDOUT_SEED \
	-v train_bank="generate_synthetic($TRAIN_CUSTOMERS, $TRAIN_DAYS, $TRAIN_SEED, '$END_TIME')" \
	-v train_seed=$TRAIN_SEED -v train_seconds=$train_seconds \
	-v json_file="$work/model.json" -v card_file="$work/card.md" -v card_sql="$work/card.sql" \
	-f "$work/ship.sql" >"$work/targets"

met=1
while IFS='|' read -r what value ok; do
	printf '    %-34s %-10s %s\n' "$what" "$value" "$([ "$ok" = t ] && echo met || echo MISSED)"
	[ "$ok" = t ] || met=0
done <"$work/targets"
if [ $met -eq 0 ] && [ "${PD_MODEL_FORCE:-0}" != 1 ]; then
	echo "The model misses a target on the held-out bank: $OUT_JSON is unchanged (PD_MODEL_FORCE=1 writes it anyway)." >&2
	exit 1
fi
mkdir -p models
cp "$work/model.json" "$OUT_JSON"
cp "$work/card.md" "$OUT_CARD"
echo "    wrote $OUT_JSON ($(wc -c <"$OUT_JSON") bytes) and $OUT_CARD"

say "installing it: CREATE EXTENSION makes it the active model"
build_and_install
fresh_database $CHECK_DB
psql -qX -d $CHECK_DB -v ON_ERROR_STOP=1 -c "\pset footer off" \
	-c "SELECT model_id, name, is_active, length(booster) AS booster_bytes FROM pre_delinquency.models"
trained=$(psql -qAtX -d $TRAIN_DB -c "SELECT md5(booster) FROM pre_delinquency.models WHERE model_id = $model_id")
installed=$(psql -qAtX -d $CHECK_DB -c "SELECT md5(booster) FROM pre_delinquency.models WHERE is_active")
if [ "$trained" != "$installed" ]; then
	echo "The installed booster differs from the trained one." >&2
	exit 1
fi
echo "    the active model of a new database is the trained booster, byte for byte (md5 $installed)"

if [ "${PD_MODEL_KEEP:-0}" != 1 ]; then
	for db in $TRAIN_DB $HELDOUT_DB $CHECK_DB; do
		PGOPTIONS="-c client_min_messages=warning" psql -qX -d postgres -c "DROP DATABASE IF EXISTS $db"
	done
fi
say "done in $SECONDS s: $OUT_JSON, $OUT_CARD"
