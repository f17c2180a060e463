"""
service.py
    The seed system's prediction API, re-created for the benchmark peer: a
    FastAPI app (run by uvicorn) that, per request, reads the customer's
    history from Postgres, computes the 31 features with pandas
    (features.py), predicts with the xgboost Python package from the model
    file the extension ships, and writes the risk score row.

Tables: schema peer (bench/peer/schema.sql), a copy of the bank. Settings
from the environment: PEER_MODEL (the model file), PEER_DSN (libpq conninfo,
default: the PG* variables). One Postgres connection per worker thread,
autocommit, as the seed had.

    POST /predict/{customer_id}[?as_of=...]   score, record, return the prediction
    GET  /features/{customer_id}[?as_of=...]  the features and score only, nothing written
    GET  /health
"""
import base64
import json
import os
import threading
from datetime import datetime, timedelta, timezone
from uuid import UUID

import numpy as np
import pandas as pd
import psycopg
import xgboost as xgb
from fastapi import FastAPI, HTTPException

from features import FEATURE_NAMES, PAY_COLUMNS, TXN_COLUMNS, compute_features

RISK_LEVELS = [(0.7, "CRITICAL"), (0.5, "HIGH"), (0.3, "MEDIUM"), (0.0, "LOW")]
TOP_FEATURES = 5

app = FastAPI(title="pre-delinquency prediction API (benchmark peer)")


def load_booster(path):
    """The shipped model file: metadata plus the booster as base64 UBJ."""
    with open(path) as f:
        model = json.load(f)
    b = xgb.Booster()
    b.load_model(bytearray(base64.b64decode(model["booster"])))
    b.set_param({"nthread": 1})
    return b


booster = load_booster(os.environ.get("PEER_MODEL", "models/pre_delinquency_model.json"))
local = threading.local()


def connection():
    conn = getattr(local, "conn", None)
    if conn is None or conn.closed:
        conn = local.conn = psycopg.connect(os.environ.get("PEER_DSN", ""), autocommit=True)
    return conn


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def micros(t):
    """A timestamptz as microseconds since the epoch (exact)."""
    return (t - EPOCH) // timedelta(microseconds=1)


def load_history(cur, customer_id):
    """The customer's row, whole transaction history and payments."""
    cur.execute(
        "SELECT (monthly_income * 100)::int8, salary_day, (opening_balance * 100)::int8,"
        " (min_balance * 100)::int8, opened_at FROM peer.customers WHERE customer_id = %s",
        (customer_id,))
    row = cur.fetchone()
    if row is None:
        raise HTTPException(status_code=404, detail=f"customer {customer_id} does not exist")
    customer = {"income": row[0], "salary_day": row[1], "opening": row[2],
                "min_balance": row[3], "opened_at": micros(row[4])}
    cur.execute(
        "SELECT txn_time, (amount * 100)::int8, txn_type, category, channel, merchant_id,"
        " is_failed FROM peer.transactions WHERE customer_id = %s", (customer_id,))
    txns = pd.DataFrame(cur.fetchall(), columns=TXN_COLUMNS)
    txns["ts"] = pd.to_datetime(txns.ts, utc=True).dt.as_unit("us").astype("int64")
    txns["cents"] = txns.cents.astype("int64")
    txns["is_failed"] = txns.is_failed.astype(bool)
    cur.execute(
        "SELECT kind, due_date - DATE '1970-01-01', (amount_due * 100)::int8,"
        " paid_date - DATE '1970-01-01', (amount_paid * 100)::int8"
        " FROM peer.payments WHERE customer_id = %s", (customer_id,))
    pays = pd.DataFrame(cur.fetchall(), columns=PAY_COLUMNS)
    pays["paid_date"] = pays.paid_date.astype("float64")  # NaN when unpaid
    for c in ("due_date", "cents_due", "cents_paid"):
        pays[c] = pays[c].astype("int64")
    return customer, txns, pays


def assess(customer_id, as_of, explain):
    """Features, score and (explain) SHAP contributions of one customer as of a time."""
    t = micros(as_of) if as_of is not None else micros(datetime.now(timezone.utc))
    with connection().cursor() as cur:
        customer, txns, pays = load_history(cur, customer_id)
    features = compute_features(customer, txns, pays, t)
    row = xgb.DMatrix(np.array([features], dtype=np.float32), nthread=1)
    score = float(booster.predict(row)[0])
    if not explain:
        return t, features, score, None
    contributions = booster.predict(row, pred_contribs=True)[0][:len(FEATURE_NAMES)]
    return t, features, score, contributions


def risk_level(score):
    return next(name for threshold, name in RISK_LEVELS if score >= threshold)


@app.get("/health")
def health():
    return {"status": "ok"}


@app.get("/features/{customer_id}")
def features(customer_id: UUID, as_of: datetime | None = None):
    _, values, score, _ = assess(customer_id, as_of, explain=False)
    return {"customer_id": str(customer_id), "features": values, "risk_score": score}


@app.post("/predict/{customer_id}")
def predict(customer_id: UUID, as_of: datetime | None = None):
    t, values, score, contributions = assess(customer_id, as_of, explain=True)
    order = np.argsort(-np.abs(contributions), kind="stable")[:TOP_FEATURES]
    top = [{"feature": FEATURE_NAMES[i], "value": values[i],
            "contribution": float(contributions[i])} for i in order]
    level = risk_level(score)
    scored_at = datetime.now(timezone.utc)
    as_of_time = EPOCH + timedelta(microseconds=t)
    with connection().cursor() as cur:
        cur.execute(
            "INSERT INTO peer.risk_scores (customer_id, scored_at, as_of, risk_score, risk_level,"
            " top_features) VALUES (%s, %s, %s, %s, %s, %s) RETURNING score_id",
            (customer_id, scored_at, as_of_time, score, level, json.dumps(top)))
        score_id = cur.fetchone()[0]
    return {"score_id": score_id, "customer_id": str(customer_id), "risk_score": score,
            "risk_level": level, "top_features": top, "timestamp": scored_at.isoformat()}

