"""
features.py
    The seed system's feature engineering, re-created for the benchmark peer:
    the 31 features of FEATURES.md for one customer as of one time, computed
    with pandas from the customer's history as the service read it from
    Postgres.

Money is integer cents (the service reads amount * 100 as bigint) and times
are integer microseconds since the epoch, so sums, window edges and the
thresholds of features 30-31 are exact, as FEATURES.md requires; the shape of
the code (DataFrame, boolean masks, group-bys) is the seed's. Knows nothing
about HTTP, Kafka or the model.
"""
import math
from datetime import date, timedelta

import numpy as np

FEATURE_NAMES = [
    "salary_delay_days", "salary_amount_deviation_pct", "salary_missed_count_180d",
    "balance_drawdown_7d_pct", "balance_drawdown_14d_pct", "balance_drawdown_30d_pct",
    "balance_volatility_30d", "days_below_min_balance_30d",
    "discretionary_spend_drop_7d_pct", "discretionary_spend_drop_30d_pct",
    "essential_spend_increase_pct", "total_spend_change_30d_pct",
    "merchant_diversity_drop_pct", "avg_txn_size_change_pct", "weekend_spend_drop_pct",
    "spend_to_income_ratio_30d", "bill_lateness_avg_days_90d", "loan_late_count_180d",
    "partial_payment_count_90d", "payment_timing_shift_days", "payment_undershoot_pct_90d",
    "failed_autodebit_count_30d", "failed_txn_count_30d", "atm_withdrawal_count_change_pct",
    "atm_withdrawal_size_increase_pct", "cash_reliance_ratio_30d",
    "txn_frequency_drop_30d_pct", "inactive_days_30d", "behavior_consistency_score",
    "financial_stress_composite", "behavioral_anomaly_count",
]
DEBIT_CATEGORIES = ["groceries", "utilities", "rent", "insurance", "healthcare", "dining",
                    "entertainment", "shopping", "travel", "transport", "education",
                    "loan_payment", "atm", "transfer_out", "other"]
DISCRETIONARY = ["dining", "entertainment", "shopping", "travel"]
ESSENTIAL = ["groceries", "utilities", "rent", "insurance", "healthcare"]

DAY = 86_400_000_000  # microseconds
EPOCH = date(1970, 1, 1)

TXN_COLUMNS = ["ts", "cents", "txn_type", "category", "channel", "merchant_id", "is_failed"]
PAY_COLUMNS = ["kind", "due_date", "cents_due", "paid_date", "cents_paid"]


def pct(a, b):
    """pct(a, b) = 100 a / b if b > 0, else 0; exact for integers."""
    return 100 * a / b if b > 0 else 0.0


def epoch_day(d):
    return (d - EPOCH).days


def add_months(d, k):
    """d plus k months, same day of month (salary days are 1..28)."""
    m = d.year * 12 + d.month - 1 + k
    return date(m // 12, m % 12 + 1, d.day)


def latest_salary_date(today, salary_day):
    if today.day >= salary_day:
        return date(today.year, today.month, salary_day)
    return add_months(date(today.year, today.month, salary_day), -1)


def change_pct_of_averages(sum_r, n_r, sum_b, n_b):
    """change_pct of two averages, an empty average being 0."""
    if n_b == 0 or sum_b <= 0:
        return 0.0
    if n_r == 0:
        return -100.0
    return pct(sum_r * n_b - sum_b * n_r, sum_b * n_r)


def salary_features(customer, txns, t, today):
    """Features 1-3."""
    salary = txns[(txns.txn_type == "credit") & (txns.category == "salary")
                  & ~txns.is_failed & (txns.ts < t)].sort_values(["ts", "cents"])
    d = latest_salary_date(today, customer["salary_day"])
    days = salary.ts // DAY
    since = salary[salary.ts >= epoch_day(d - timedelta(days=5)) * DAY]
    if len(since):
        delay = max(0, int(since.ts.iloc[0] // DAY) - epoch_day(d))
    else:
        delay = (today - d).days
    recent = salary[salary.ts >= t - 40 * DAY]
    if len(recent):
        latest = recent.iloc[-1]  # sorted by time, then amount: the larger
        deviation = pct(int(latest.cents) - customer["income"], customer["income"])
    else:
        deviation = -100.0
    opened = customer["opened_at"] // DAY
    missed = 0
    for k in range(1, 7):
        dk = epoch_day(add_months(d, -k))
        if dk >= opened and not ((days >= dk - 5) & (days <= dk + 10)).any():
            missed += 1
    return [delay, deviation, missed]


def balance_features(customer, txns, t):
    """Features 4-8 and the exact drawdown test of feature 31."""
    ok = txns[~txns.is_failed].sort_values("ts")
    flow = np.where(ok.txn_type == "credit", ok.cents, -ok.cents).cumsum()
    points = t - DAY * np.arange(31)
    before = np.searchsorted(ok.ts.to_numpy(), points, side="left")
    bal = [customer["opening"] + (int(flow[n - 1]) if n else 0) for n in before]
    income = customer["income"]
    out = [pct(max(0, bal[n] - bal[0]), max(bal[n], income)) for n in (7, 14, 30)]
    s1 = sum(bal[:30])
    s2 = sum(b * b for b in bal[:30])
    out.append(math.sqrt((30 * s2 - s1 * s1) / 900) / income)  # exact integer variance
    out.append(sum(b < customer["min_balance"] for b in bal[:30]))
    drawdown_over_30 = 100 * max(0, bal[30] - bal[0]) > 30 * max(bal[30], income)
    return out, drawdown_over_30


def activity_features(customer, txns, t):
    """Features 9-16 and 22-29, and the exact tests of feature 31."""
    w = txns[(txns.ts >= t - 120 * DAY) & (txns.ts < t)]
    r30 = w.ts >= t - 30 * DAY
    ok = ~w.is_failed
    debit = ok & (w.txn_type == "debit")
    disc = debit & w.category.isin(DISCRETIONARY)
    ess = debit & w.category.isin(ESSENTIAL)
    atm = debit & (w.channel == "atm")
    weekend = ((w.ts // DAY + 3) % 7) >= 5  # 1970-01-01 was a Thursday
    cents = w.cents

    def total(mask):
        return int(cents[mask].sum())

    disc_r7 = total(disc & (w.ts >= t - 7 * DAY))
    disc_7_37 = total(disc & (w.ts >= t - 37 * DAY) & (w.ts < t - 7 * DAY))
    disc_r, disc_b = total(disc & r30), total(disc & ~r30)
    ess_r, ess_b = total(ess & r30), total(ess & ~r30)
    deb_r, deb_b = total(debit & r30), total(debit & ~r30)
    n_deb_r, n_deb_b = int((debit & r30).sum()), int((debit & ~r30).sum())
    wk_r, wk_b = total(debit & weekend & r30), total(debit & weekend & ~r30)
    atm_r, atm_b = total(atm & r30), total(atm & ~r30)
    n_atm_r, n_atm_b = int((atm & r30).sum()), int((atm & ~r30).sum())
    n_ok_r, n_ok_b = int((ok & r30).sum()), int((ok & ~r30).sum())
    merch_r = w.merchant_id[debit & r30].nunique()
    merch_p = w.merchant_id[debit & ~r30 & (w.ts >= t - 60 * DAY)].nunique()
    failed_r = w[w.is_failed & r30]
    reach = -((w.ts[r30] - t) // DAY)  # ceil((t - ts) / 1 day), 1..30
    sums = (w[debit].assign(recent=r30[debit])
            .groupby(["recent", "category"]).cents.sum())
    vec_r = [int(sums.get((True, c), 0)) for c in DEBIT_CATEGORIES]
    vec_b = [int(sums.get((False, c), 0)) for c in DEBIT_CATEGORIES]
    dot = sum(a * b for a, b in zip(vec_r, vec_b))
    nr, nb = sum(a * a for a in vec_r), sum(b * b for b in vec_b)
    if nr == 0 and nb == 0:
        cosine = 1.0
    elif nr == 0 or nb == 0:
        cosine = 0.0
    else:
        cosine = min(1.0, dot / (math.sqrt(nr) * math.sqrt(nb)))

    f = {
        9: pct(7 * disc_7_37 - 30 * disc_r7, 7 * disc_7_37),
        10: pct(disc_b - 3 * disc_r, disc_b),
        11: pct(3 * ess_r - ess_b, ess_b),
        12: pct(3 * deb_r - deb_b, deb_b),
        13: pct(merch_p - merch_r, merch_p),
        14: change_pct_of_averages(deb_r, n_deb_r, deb_b, n_deb_b),
        15: pct(wk_b - 3 * wk_r, wk_b),
        16: deb_r / customer["income"],
        22: int((failed_r.channel == "autodebit").sum()),
        23: len(failed_r),
        24: pct(3 * n_atm_r - n_atm_b, n_atm_b),
        25: change_pct_of_averages(atm_r, n_atm_r, atm_b, n_atm_b),
        26: atm_r / deb_r if deb_r > 0 else 0.0,
        27: pct(n_ok_b - 3 * n_ok_r, n_ok_b),
        28: 30 - reach.nunique(),
        29: cosine,
    }
    exact = {
        "discretionary_drop_over_30": disc_b > 0 and 100 * (disc_b - 3 * disc_r) > 30 * disc_b,
        "essential_increase_over_20": ess_b > 0 and 100 * (3 * ess_r - ess_b) > 20 * ess_b,
        "frequency_drop_over_30": n_ok_b > 0 and 100 * (n_ok_b - 3 * n_ok_r) > 30 * n_ok_b,
        "cash_reliance_over_0_3": deb_r > 0 and 10 * atm_r > 3 * deb_r,
    }
    return f, exact


def payment_features(pays, today):
    """Features 17-21 and the exact lateness test of feature 31."""
    td = epoch_day(today)
    p = pays[(pays.due_date >= td - 180) & (pays.due_date < td)]
    paid = p.paid_date.notna() & (p.paid_date < td)
    paid_day = p.paid_date.where(paid, td)
    late = (paid_day - p.due_date).clip(lower=0)
    pat = p.cents_paid.where(paid, 0)
    loan = p.kind == "loan"
    due90 = p.due_date >= td - 90
    nonloan90 = ~loan & due90
    late_sum, n_late = int(late[nonloan90].sum()), int(nonloan90.sum())
    shift = p.paid_date - p.due_date  # raw days, negative when early
    recent = shift[paid & (p.due_date >= td - 30)]
    prior = shift[paid & (p.due_date >= td - 120) & (p.due_date < td - 30)]
    if len(recent) and len(prior):
        sr, nr, sp, n_p = int(recent.sum()), len(recent), int(prior.sum()), len(prior)
        timing_shift = (sr * n_p - sp * nr) / (nr * n_p)
    else:
        timing_shift = 0.0
    under = (p.cents_due - np.minimum(pat, p.cents_due))[due90]
    f = {
        17: late_sum / n_late if n_late else 0.0,
        18: int((loan & ((late > 5) | (pat < p.cents_due))).sum()),
        19: int((due90 & (pat > 0) & (pat < p.cents_due)).sum()),
        20: timing_shift,
        21: pct(int(under.sum()), int(p.cents_due[due90].sum())),
    }
    return f, n_late > 0 and late_sum > 5 * n_late


def compute_features(customer, txns, pays, t):
    """
    The 31 features, in FEATURES.md's order, as floats. customer: dict with
    income, opening, min_balance (cents), salary_day, opened_at (µs);
    txns: DataFrame of TXN_COLUMNS; pays: DataFrame of PAY_COLUMNS (dates as
    days since the epoch, paid_date NaN when unpaid); t: µs since the epoch.
    """
    today = EPOCH + timedelta(days=t // DAY)
    f = [0.0] * 32  # 1-based
    f[1:4] = salary_features(customer, txns, t, today)
    balance, drawdown_over_30 = balance_features(customer, txns, t)
    f[4:9] = balance
    activity, exact = activity_features(customer, txns, t)
    payments, lateness_over_5 = payment_features(pays, today)
    for i, v in {**activity, **payments}.items():
        f[i] = v

    def clip01(x):
        return min(1.0, max(0.0, x))

    f[30] = (clip01(f[1] / 10) + clip01(f[6] / 50) + clip01(f[8] / 10) + clip01(f[22] / 3)
             + clip01(f[17] / 15) + clip01(f[26] / 0.5)) / 6
    f[31] = (int(f[1] > 3) + int(f[3] >= 1) + int(drawdown_over_30)
             + int(exact["discretionary_drop_over_30"]) + int(exact["essential_increase_over_20"])
             + int(f[22] >= 1) + int(f[8] > 5) + int(exact["frequency_drop_over_30"])
             + int(exact["cash_reliance_over_0_3"]) + int(lateness_over_5))
    return [float(x) for x in f[1:]]
