"""A second independent reading of FEATURES.md (after features_ref.sql), in
Python: the 31 features and the label for one customer as of a time t. Written
from the page alone, without reading the C engine or the SQL reference.

Exact arithmetic throughout: money in integer cents (all columns are numeric(14,2)),
ratios as fractions.Fraction, timestamps as integer microseconds since the Unix epoch
(UTC), dates as integer day numbers (days since 1970-01-01, UTC).  Only the two
irrational features (7: a square root, 29: a cosine) go through Decimal with 60 digits.
Everything becomes float only at the very end.
"""
from bisect import bisect_left
from datetime import date, timedelta
from decimal import Decimal, getcontext
from fractions import Fraction as F

getcontext().prec = 60

US = 1_000_000
DAY = 86_400 * US
EPOCH_ORD = date(1970, 1, 1).toordinal()

FEATURES = [
    "salary_delay_days", "salary_amount_deviation_pct", "salary_missed_count_180d",
    "balance_drawdown_7d_pct", "balance_drawdown_14d_pct", "balance_drawdown_30d_pct",
    "balance_volatility_30d", "days_below_min_balance_30d",
    "discretionary_spend_drop_7d_pct", "discretionary_spend_drop_30d_pct",
    "essential_spend_increase_pct", "total_spend_change_30d_pct",
    "merchant_diversity_drop_pct", "avg_txn_size_change_pct", "weekend_spend_drop_pct",
    "spend_to_income_ratio_30d",
    "bill_lateness_avg_days_90d", "loan_late_count_180d", "partial_payment_count_90d",
    "payment_timing_shift_days", "payment_undershoot_pct_90d",
    "failed_autodebit_count_30d", "failed_txn_count_30d",
    "atm_withdrawal_count_change_pct", "atm_withdrawal_size_increase_pct",
    "cash_reliance_ratio_30d",
    "txn_frequency_drop_30d_pct", "inactive_days_30d", "behavior_consistency_score",
    "financial_stress_composite", "behavioral_anomaly_count",
]
assert len(FEATURES) == 31

DEBIT_CATS = ["groceries", "utilities", "rent", "insurance", "healthcare", "dining",
              "entertainment", "shopping", "travel", "transport", "education",
              "loan_payment", "atm", "transfer_out", "other"]
DISC = {"dining", "entertainment", "shopping", "travel"}
ESS = {"groceries", "utilities", "rent", "insurance", "healthcare"}


def cents(x):
    """numeric(14,2) Decimal -> exact integer cents."""
    v = Decimal(x) * 100
    assert v == v.to_integral_value(), x
    return int(v)


def day_of(us):
    """UTC date (as day number) of a timestamp in microseconds."""
    return us // DAY  # floor division: correct for times before 1970 too


def to_date(dn):
    return date.fromordinal(dn + EPOCH_ORD)


def from_date(d):
    return d.toordinal() - EPOCH_ORD


def minus_months(d, k):
    """Same day of month, k months earlier (day <= 28 so always valid)."""
    m = d.month - 1 - k
    y = d.year + m // 12
    m = m % 12 + 1
    return date(y, m, d.day)


def pct(a, b):
    return F(100) * a / b if b > 0 else F(0)


def change_pct(r, b):
    return pct(r - b, b)


def drop_pct(r, b):
    return pct(b - r, b)


def avg(xs):
    xs = list(xs)
    return F(sum(xs), len(xs)) if xs else F(0)


def clip01(x):
    return min(F(1), max(F(0), x))


def dsqrt(fr):
    """sqrt of a non-negative Fraction, as Decimal."""
    if fr == 0:
        return Decimal(0)
    return (Decimal(fr.numerator) / Decimal(fr.denominator)).sqrt()


class Customer:
    """cust: dict(monthly_income, salary_day, opened_at_us, opening_balance, min_balance) with
    money in cents.  txns: list of (time_us, amount_cents, txn_type, category, channel,
    merchant_id|None, is_failed).  pays: list of (kind, due_dn, amount_due_c, paid_dn|None,
    amount_paid_c)."""

    def __init__(self, cust, txns, pays):
        self.c = cust
        self.txns = sorted(txns, key=lambda r: r[0])
        self.times = [r[0] for r in self.txns]
        self.pays = pays
        ok = [r for r in self.txns if not r[6]]
        self.ok_times = [r[0] for r in ok]
        cum = [0]
        for r in ok:
            cum.append(cum[-1] + (r[1] if r[2] == "credit" else -r[1]))
        self.ok_cum = cum
        self.ok = ok

    def bal(self, x):
        """opening_balance + credits - debits with txn_time < x (successful only)."""
        return self.c["opening_balance"] + self.ok_cum[bisect_left(self.ok_times, x)]

    def window(self, lo, hi, rows=None):
        """rows with lo <= txn_time < hi (from the time-sorted list)."""
        if rows is None:
            rows, times = self.txns, self.times
        else:
            rows, times = self.ok, self.ok_times
        return rows[bisect_left(times, lo):bisect_left(times, hi)]

    def features(self, t):
        c = self.c
        mi = F(c["monthly_income"])
        sd = c["salary_day"]
        dt = day_of(t)                      # date(t)
        dtd = to_date(dt)
        # --- salary -------------------------------------------------------
        if dtd.day >= sd:
            dd = dtd.replace(day=sd)
        else:
            dd = minus_months(dtd, 1).replace(day=sd)
        d = from_date(dd)
        sal = [r for r in self.ok if r[2] == "credit" and r[3] == "salary" and r[0] < t]
        # 1
        in_win = [r for r in sal if (d - 5) * DAY <= r[0] < t]
        if in_win:
            first = min(in_win, key=lambda r: r[0])
            f1 = F(max(0, day_of(first[0]) - d))
        else:
            f1 = F(dt - d)
        # 2
        w40 = [r for r in sal if t - 40 * DAY <= r[0] < t]
        if w40:
            last = max(w40, key=lambda r: (r[0], r[1]))
            f2 = change_pct(F(last[1]), mi)
        else:
            f2 = F(-100)
        # 3
        open_dn = day_of(c["opened_at_us"])
        sal_days = [day_of(r[0]) for r in sal]
        f3 = 0
        for k in range(1, 7):
            dk = from_date(minus_months(dd, k))
            if dk < open_dn:
                continue
            if not any(dk - 5 <= s <= dk + 10 for s in sal_days):
                f3 += 1
        f3 = F(f3)
        # --- balance ------------------------------------------------------
        bt = self.bal(t)

        def drawdown(n):
            b0 = self.bal(t - n * DAY)
            return F(100) * max(0, b0 - bt) / max(F(b0), mi)
        f4, f5, f6 = drawdown(7), drawdown(14), drawdown(30)
        bals = [self.bal(t - j * DAY) for j in range(30)]
        mean = F(sum(bals), 30)
        var = sum((F(b) - mean) ** 2 for b in bals) / 30
        f7 = dsqrt(var) / (Decimal(mi.numerator) / Decimal(mi.denominator))
        f8 = F(sum(1 for b in bals if b < c["min_balance"]))
        # --- spending -----------------------------------------------------
        okw = self.window(t - 120 * DAY, t, rows="ok")
        deb = [r for r in okw if r[2] == "debit"]
        R30 = [r for r in deb if r[0] >= t - 30 * DAY]
        B90 = [r for r in deb if r[0] < t - 30 * DAY]   # [t-120d, t-30d)

        def s(rows, cats=None):
            return F(sum(r[1] for r in rows if cats is None or r[3] in cats))
        disc7 = s([r for r in deb if r[0] >= t - 7 * DAY], DISC)
        disc7b = s([r for r in deb if t - 37 * DAY <= r[0] < t - 7 * DAY], DISC)
        f9 = drop_pct(disc7, disc7b * F(7, 30))
        f10 = drop_pct(s(R30, DISC), s(B90, DISC) / 3)
        f11 = change_pct(s(R30, ESS), s(B90, ESS) / 3)
        f12 = change_pct(s(R30), s(B90) / 3)
        m30 = {r[5] for r in R30 if r[5] is not None}
        m60 = {r[5] for r in deb if t - 60 * DAY <= r[0] < t - 30 * DAY and r[5] is not None}
        f13 = drop_pct(F(len(m30)), F(len(m60)))
        f14 = change_pct(avg(r[1] for r in R30), avg(r[1] for r in B90))

        def wkend(rows):
            return F(sum(r[1] for r in rows if to_date(day_of(r[0])).weekday() >= 5))
        f15 = drop_pct(wkend(R30), wkend(B90) / 3)
        f16 = s(R30) / mi
        # --- payments -----------------------------------------------------
        P = []
        for (kind, due, adue, pdate, apaid) in self.pays:
            paid = pdate is not None and pdate < dt
            late = max(0, (pdate - due) if paid else (dt - due))
            pat = apaid if paid else 0
            P.append((kind, due, adue, pdate, apaid, paid, late, pat))

        def due_in(p, n):
            return dt - n <= p[1] < dt
        f17 = avg(F(p[6]) for p in P if p[0] != "loan" and due_in(p, 90))
        f18 = F(sum(1 for p in P if p[0] == "loan" and due_in(p, 180)
                    and (p[6] > 5 or p[7] < p[2])))
        f19 = F(sum(1 for p in P if due_in(p, 90) and 0 < p[7] < p[2]))
        a = [p[3] - p[1] for p in P if p[5] and due_in(p, 30)]
        b = [p[3] - p[1] for p in P if p[5] and dt - 120 <= p[1] < dt - 30]
        f20 = (avg(a) - avg(b)) if (a and b) else F(0)
        p90 = [p for p in P if due_in(p, 90)]
        f21 = pct(F(sum(p[2] - min(p[7], p[2]) for p in p90)), F(sum(p[2] for p in p90)))
        allw30 = self.window(t - 30 * DAY, t)
        f22 = F(sum(1 for r in allw30 if r[6] and r[4] == "autodebit"))
        f23 = F(sum(1 for r in allw30 if r[6]))
        # --- cash ---------------------------------------------------------
        atm30 = [r for r in R30 if r[4] == "atm"]
        atm90 = [r for r in B90 if r[4] == "atm"]
        f24 = change_pct(F(len(atm30)), F(len(atm90), 3))
        f25 = change_pct(avg(r[1] for r in atm30), avg(r[1] for r in atm90))
        tot30 = s(R30)
        f26 = s(atm30) / tot30 if tot30 > 0 else F(0)
        # --- activity -----------------------------------------------------
        cnt30 = sum(1 for r in okw if r[0] >= t - 30 * DAY)
        cnt90 = sum(1 for r in okw if r[0] < t - 30 * DAY)
        f27 = drop_pct(F(cnt30), F(cnt90, 3))
        f28 = 0
        for j in range(30):
            if not self.window(t - (j + 1) * DAY, t - j * DAY):
                f28 += 1
        f28 = F(f28)
        v30 = [sum(r[1] for r in R30 if r[3] == cat) for cat in DEBIT_CATS]
        v90 = [sum(r[1] for r in B90 if r[3] == cat) for cat in DEBIT_CATS]
        z30, z90 = all(v == 0 for v in v30), all(v == 0 for v in v90)
        if z30 and z90:
            f29 = Decimal(1)
        elif z30 or z90:
            f29 = Decimal(0)
        else:
            dot = sum(x * y for x, y in zip(v30, v90))
            n2 = sum(x * x for x in v30) * sum(y * y for y in v90)
            f29 = Decimal(dot) / Decimal(n2).sqrt()
        # --- derived ------------------------------------------------------
        f30 = (clip01(f1 / 10) + clip01(f6 / 50) + clip01(f8 / 10) + clip01(f22 / 3)
               + clip01(f17 / 15) + clip01(f26 / F(1, 2))) / 6
        f31 = F(sum([f1 > 3, f3 >= 1, f6 > 30, f10 > 30, f11 > 20, f22 >= 1, f8 > 5,
                     f27 > 30, f26 > F(3, 10), f17 > 5]))
        vals = [f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17,
                f18, f19, f20, f21, f22, f23, f24, f25, f26, f27, f28, f29, f30, f31]
        return [float(v) for v in vals], vals

    def label(self, t):
        dt = day_of(t)
        due = [p for p in self.pays if p[0] == "loan" and dt <= p[1] < dt + 30]
        if not due:
            return None
        for (kind, dd, adue, pdate, apaid) in due:
            if pdate is None or pdate - dd > 5 or apaid < adue:
                return 1
        return 0


# ---------------------------------------------------------------------------
# loading from the database (only customers, transactions, payments)

def load(conn, customer_ids=None):
    """Returns {customer_id(str): Customer}."""
    where = ""
    params = ()
    if customer_ids is not None:
        where = "WHERE customer_id = ANY(%s::uuid[])"
        params = (list(customer_ids),)
    cur = conn.cursor()
    cur.execute(f"""SELECT customer_id::text, monthly_income, salary_day,
                          (extract(epoch FROM opened_at) * 1000000)::bigint,
                          opening_balance, min_balance
                   FROM pre_delinquency.customers {where}""", params)
    custs = {}
    for cid, mi, sd, op, ob, mb in cur.fetchall():
        custs[cid] = dict(monthly_income=cents(mi), salary_day=int(sd), opened_at_us=int(op),
                          opening_balance=cents(ob), min_balance=cents(mb))
    txns = {cid: [] for cid in custs}
    cur.execute(f"""SELECT customer_id::text, (extract(epoch FROM txn_time) * 1000000)::bigint,
                          amount, txn_type, category, channel, merchant_id, is_failed
                   FROM pre_delinquency.transactions {where}""", params)
    for cid, tm, am, ty, cat, ch, mer, fl in cur.fetchall():
        if cid in txns:
            txns[cid].append((int(tm), cents(am), ty, cat, ch, mer, bool(fl)))
    pays = {cid: [] for cid in custs}
    cur.execute(f"""SELECT customer_id::text, kind, due_date - date '1970-01-01',
                          amount_due, paid_date - date '1970-01-01', amount_paid
                   FROM pre_delinquency.payments {where}""", params)
    for cid, kind, due, ad, pd, ap in cur.fetchall():
        if cid in pays:
            pays[cid].append((kind, int(due), cents(ad), None if pd is None else int(pd),
                              cents(ap)))
    return {cid: Customer(custs[cid], txns[cid], pays[cid]) for cid in custs}


def ts_us(conn, ts_text):
    """A timestamptz literal -> integer microseconds since the epoch (UTC)."""
    cur = conn.cursor()
    cur.execute("SELECT (extract(epoch FROM %s::timestamptz) * 1000000)::bigint", (ts_text,))
    return int(cur.fetchone()[0])
