"""Boundary-biased random customers for crosscheck.py: each aligned on one of
the ANCHORS (the as_of times to check them at), with transactions on the
window edges (t, t - 7/14/30/37/40/60/120 days, one microsecond either side),
salary credits at the edges of the salary-day windows (two at one instant
sometimes), payments due and paid around the due-in edges, tiny and huge
incomes and balances. Deterministic for a given N and SEED; replaces the
customers of an earlier run with the same SEED (ids f0220000-...-SEED...).

usage: fuzz_bank.py N SEED      (INSERT_TZ: the TimeZone of the inserting session)
"""
import os
import random
import sys
import uuid
from datetime import date, datetime, timedelta, timezone

import psycopg

N, SEED = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(SEED)
UTC = timezone.utc
ANCHORS = [datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 1, 12, tzinfo=UTC),
           datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 2, 29, 6, tzinfo=UTC),
           datetime(2025, 6, 15, tzinfo=UTC),
           datetime(2025, 1, 31, 23, 59, 59, 999999, tzinfo=UTC)]
CREDIT = ["salary", "transfer_in", "refund"]
DEBIT = ["groceries", "utilities", "rent", "insurance", "healthcare", "dining",
         "entertainment", "shopping", "travel", "transport", "education", "loan_payment",
         "atm", "transfer_out", "other"]
CHANNELS = ["pos", "card", "online", "upi", "netbanking", "atm", "branch", "autodebit"]
US = timedelta(microseconds=1)


def minus_months(d, k):
    m = d.month - 1 - k
    return date(d.year + m // 12, m % 12 + 1, d.day)


def money():
    r = rng.random()
    if r < 0.15:
        return rng.choice(["0.01", "0.10", "0.20", "0.30", "0.70", "1.00", "3.00", "10.00"])
    if r < 0.5:
        return f"{rng.randint(1, 50) * 20}.00"
    if r < 0.55:
        return "999999999.99"
    return f"{rng.randint(1, 300000) / 100:.2f}"


def at(d):
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


cust_rows, txn_rows, pay_rows = [], [], []
for i in range(N):
    cid = uuid.UUID(f"f0220000-0000-0000-0000-{SEED:04d}{i:08d}")
    a = rng.choice(ANCHORS)
    da = a.date()
    sd = rng.choice([28, 1, da.day if da.day <= 28 else 28, rng.randint(1, 28), rng.randint(1, 28)])
    d = da.replace(day=sd) if da.day >= sd else minus_months(da, 1).replace(day=sd)
    mi = rng.choice(["0.01", "1.00", "300.00", f"{rng.randint(300, 15000)}.00",
                     f"{rng.randint(30000, 1500000) / 100:.2f}", "999999999999.99"])
    ob = rng.choice(["0", "-5000.00", "900000000000.00", f"{rng.randint(-200000, 5000000) / 100:.2f}"])
    mb = rng.choice(["0", "0", "1000.00", f"{rng.randint(0, 500000) / 100:.2f}", "-100.00"])
    r = rng.random()
    if r < 0.3:
        op = at(minus_months(d, rng.randint(1, 6))) + rng.choice([timedelta(0), -US, timedelta(hours=23), timedelta(days=1)])
    elif r < 0.4:
        op = a + timedelta(days=rng.randint(-5, 5))
    else:
        op = a - timedelta(days=rng.randint(0, 400), seconds=rng.randint(0, 86399))
    cust_rows.append((cid, mi, sd, "fuzz", "fuzz", op, ob, mb))

    def txn(tm, amount=None, ttype=None, cat=None, ch=None, mer="rand", failed=None):
        if ttype is None:
            ttype = "debit" if rng.random() < 0.75 else "credit"
        if cat is None:
            cat = rng.choice(DEBIT if ttype == "debit" else CREDIT)
        if ch is None:
            ch = rng.choice(CHANNELS + ["atm", "autodebit"])
        if mer == "rand":
            mer = None if rng.random() < 0.3 else f"m{rng.randint(0, 6)}"
        if failed is None:
            failed = rng.random() < 0.1
        txn_rows.append((uuid.UUID(int=rng.getrandbits(128)), cid, tm, amount or money(), ttype, cat, ch, mer, failed))

    # window-edge transactions
    for _ in range(rng.choice([0, 3, 10, 30, 60])):
        base = a - timedelta(days=rng.choice([0, 1, 7, 14, 30, 37, 40, 60, 90, 120, 121,
                                               rng.randint(0, 125), rng.randint(0, 30)]))
        delta = rng.choice([timedelta(0), timedelta(0), -US, US, timedelta(hours=-1),
                            timedelta(seconds=-rng.randint(0, 86400))])
        txn(base + delta)
    # whole-day transactions (weekend edges, inactive days)
    for _ in range(rng.choice([0, 5, 15])):
        day = at(da - timedelta(days=rng.randint(0, 125)))
        txn(day + rng.choice([timedelta(0), -US, timedelta(hours=12)]))
    # salary credits at the salary-day edges
    for k in range(0, 7):
        if rng.random() < 0.35:
            continue
        dk = minus_months(d, k)
        tm = rng.choice([at(dk - timedelta(days=5)), at(dk - timedelta(days=5)) - US,
                         at(dk - timedelta(days=6)), at(dk + timedelta(days=11)) - US,
                         at(dk + timedelta(days=11)), at(dk), at(dk) + timedelta(hours=9),
                         at(dk + timedelta(days=rng.randint(-7, 14))), a - timedelta(days=40),
                         a - timedelta(days=40) - US, a, a - US])
        amt = rng.choice([mi, money()])
        txn(tm, amount=amt, ttype="credit", cat="salary", ch="netbanking", mer=None,
            failed=rng.random() < 0.1)
        if rng.random() < 0.2:   # a second one at the same time
            txn(tm, amount=money(), ttype="credit", cat="salary", ch="netbanking", mer=None,
                failed=False)
    # payments around the due-in edges
    for _ in range(rng.choice([0, 2, 6, 12])):
        due = da + timedelta(days=rng.choice([0, -1, -30, -31, -90, -91, -120, -121, -180, -181,
                                              29, 30, -29, -89, -119, -179,
                                              rng.randint(-200, 35)]))
        adue = money()
        kind = rng.choice(["loan", "loan", "utility", "rent", "insurance", "credit_card"])
        r = rng.random()
        if r < 0.15:
            pd, ap = None, "0"
        else:
            pd = rng.choice([due + timedelta(days=rng.choice([-3, 0, 5, 6, rng.randint(-5, 20)])),
                             da, da - timedelta(days=1), da + timedelta(days=1)])
            ap = rng.choice([adue, adue, "0.01", f"{float(adue) * 2 + 1:.2f}",
                             f"{max(0.01, float(adue) / 2):.2f}"])
        pay_rows.append((uuid.UUID(int=rng.getrandbits(128)), cid, kind, due, adue, pd, ap))

with psycopg.connect() as conn:
    cur = conn.cursor()
    cur.execute("SELECT set_config('TimeZone', %s, false)", (os.environ.get("INSERT_TZ", "UTC"),))
    cur.execute("DELETE FROM pre_delinquency.customers WHERE customer_id::text LIKE %s",
                (f"f0220000-0000-0000-0000-{SEED:04d}%",))
    cur.executemany("INSERT INTO pre_delinquency.customers VALUES (%s,%s,%s,%s,%s,%s,%s,%s)",
                    cust_rows)
    cur.executemany("INSERT INTO pre_delinquency.transactions VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                    txn_rows)
    cur.executemany("INSERT INTO pre_delinquency.payments VALUES (%s,%s,%s,%s,%s,%s,%s)",
                    pay_rows)
print(f"fuzz bank seed {SEED}: {len(cust_rows)} customers, {len(txn_rows)} transactions, "
      f"{len(pay_rows)} payments")
