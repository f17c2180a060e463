"""
The extension's scores and explanations against XGBoost's own Python package.

For every customer of the database (PG* environment variables), as of a
given time: score_customer() must equal xgboost.Booster.predict() of the
active model's booster on the feature row customer_features() returns, and
explain_customer(..., NULL) must equal predict(pred_contribs=True).
Prints one line per check, "check <name> ok|FAILED ...", and exits 1 on any
failure.
"""
import sys

import numpy as np
import psycopg
import xgboost as xgb

AS_OF = sys.argv[1] if len(sys.argv) > 1 else "2025-06-01 00:00+00"


def main():
    failed = False
    with psycopg.connect() as conn:
        cur = conn.cursor()
        cur.execute("SELECT model_id, booster FROM pre_delinquency.models WHERE is_active")
        model_id, raw = cur.fetchone()
        booster = xgb.Booster()
        booster.load_model(bytearray(raw))

        cur.execute(
            """SELECT (f).*, s FROM (
                 SELECT pre_delinquency.customer_features(customer_id, %(t)s) AS f,
                        pre_delinquency.score_customer(customer_id, %(t)s) AS s
                 FROM pre_delinquency.customers ORDER BY customer_id) q""",
            {"t": AS_OF})
        rows = np.array(cur.fetchall(), dtype=np.float64)
        features = rows[:, :31].astype(np.float32)
        ours = rows[:, 31]
        theirs = booster.predict(xgb.DMatrix(features))
        diff = float(np.abs(ours - theirs).max())
        ok = diff <= 1e-6 and len(ours) > 0
        failed |= not ok
        print(f"check scores_equal_python_xgboost {'ok' if ok else 'FAILED'} "
              f"({len(ours)} customers, model {model_id}, max |diff| {diff:.3g})")

        cur.execute("SELECT pre_delinquency.feature_names()")
        column = {name: i for i, name in enumerate(cur.fetchone()[0])}
        column["(bias)"] = 31
        cur.execute(
            """SELECT c.n, e.feature, e.contribution FROM (
                 SELECT customer_id, row_number() OVER (ORDER BY customer_id) - 1 AS n
                 FROM pre_delinquency.customers ORDER BY customer_id LIMIT 50) c,
                 LATERAL (SELECT * FROM pre_delinquency.explain_customer(c.customer_id, %(t)s, NULL)) e""",
            {"t": AS_OF})
        contributions = np.full((50, 32), np.nan)
        for n, feature, contribution in cur.fetchall():
            contributions[n, column[feature]] = contribution
        n = int((~np.isnan(contributions).any(axis=1)).sum())
        expected = booster.predict(xgb.DMatrix(features[:n]), pred_contribs=True)
        diff = float(np.abs(contributions[:n] - expected).max())
        ok = diff <= 1e-5 and n > 0
        failed |= not ok
        print(f"check shap_equal_python_xgboost {'ok' if ok else 'FAILED'} "
              f"({n} customers, max |diff| {diff:.3g})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
