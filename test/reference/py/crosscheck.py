"""The C engine (customer_features, customer_label) against features_ref.py.

usage: crosscheck.py NAME CUSTOMER_SQL AS_OF[,AS_OF...] [TZ[,TZ...]]
  CUSTOMER_SQL  a query returning customer_id
  AS_OF         timestamptz literals with an explicit offset
  TZ            session TimeZones the engine runs in (default UTC)

Prints "check reference_py/NAME ok|FAILED ..." (make test counts it), the
mismatch counts per feature with a few examples, and exits 1 on any mismatch.
Agreement is FEATURES.md's: within 1e-6 relative or 1e-9 absolute; labels equal.
"""
import sys
import time
from collections import Counter, defaultdict

import psycopg

import features_ref as ref


def agree(a, b):
    if a is None or b is None:
        return a is None and b is None
    d = abs(a - b)
    return d <= 1e-9 or d <= 1e-6 * max(abs(a), abs(b))


def engine_values(cur, cids, asofs, tzs):
    values = {}
    for tz in tzs:
        cur.execute("SELECT set_config('TimeZone', %s, false)", (tz,))
        cur.execute("""
            SELECT c::text, a, (f).*, pre_delinquency.customer_label(c, a::timestamptz)
            FROM unnest(%s::uuid[]) c, unnest(%s::text[]) a,
                 LATERAL (SELECT pre_delinquency.customer_features(c, a::timestamptz) f) x
        """, (cids, asofs))
        names = [d.name for d in cur.description][2:33]
        if names != ref.FEATURES:
            sys.exit(f"the engine's columns are not FEATURES.md's: {names}")
        for row in cur.fetchall():
            values[(tz, row[0], row[1])] = (list(row[2:33]), row[33])
    cur.execute("SELECT set_config('TimeZone', 'UTC', false)")
    return values


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    name, customer_sql, asofs = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    tzs = sys.argv[4].split(",") if len(sys.argv) > 4 else ["UTC"]
    conn = psycopg.connect(autocommit=True)
    cur = conn.cursor()
    cur.execute(customer_sql)
    cids = [r[0] for r in cur.fetchall()]
    started = time.time()
    customers = ref.load(conn, [str(c) for c in cids])
    asof_us = {a: ref.ts_us(conn, a) for a in asofs}
    engine = engine_values(cur, cids, asofs, tzs)
    mismatches = Counter()
    examples = defaultdict(list)
    bad_pairs = set()
    pairs = 0
    for cid in map(str, cids):
        for a in asofs:
            values, exact = customers[cid].features(asof_us[a])
            label = customers[cid].label(asof_us[a])
            for tz in tzs:
                got, got_label = engine[(tz, cid, a)]
                pairs += 1
                diffs = [(f, values[i], got[i], str(exact[i]))
                         for i, f in enumerate(ref.FEATURES) if not agree(values[i], got[i])]
                if label != got_label:
                    diffs.append(("label", label, got_label, str(label)))
                for f, want, have, exact_value in diffs:
                    mismatches[(tz, f)] += 1
                    if len(examples[(tz, f)]) < 3:
                        examples[(tz, f)].append(
                            f"customer {cid} as_of {a}: reference {want} ({exact_value}), engine {have}")
                if diffs:
                    bad_pairs.add((tz, cid, a))
    status = "ok" if pairs > 0 and not bad_pairs else "FAILED"
    print(f"check reference_py/{name} {status} ({len(cids)} customers x {len(asofs)} as_of x "
          f"{len(tzs)} TimeZones = {pairs} pairs, {len(bad_pairs)} disagree; "
          f"{time.time() - started:.1f} s)")
    for (tz, f), n in sorted(mismatches.items()):
        print(f"    {tz:22s} {f:36s} {n}")
        for e in examples[(tz, f)]:
            print(f"        {e}")
    sys.exit(0 if status == "ok" else 1)


if __name__ == "__main__":
    main()
