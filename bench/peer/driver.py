"""
driver.py
    The client side of the side-by-side benchmark (scripts/bench.sh): the
    agreement check and the timed calls, the same client code for
    pre_delinquency (SQL over a Postgres connection) and for the peer (HTTP
    to the prediction service).

    agree --api URL --sample N --as-of T
        the peer's 31 features and score (GET /features) against
        pre_delinquency.customer_features and score_customer for N customers:
        features within 1e-9 relative (or 1e-9 absolute), scores within 1e-6.
        Exit status 1 on any difference, naming it.
    score --side ext|peer [--api URL] --sample N --path score|record
        per-call latency, one client, one call at a time, after 5 warm-up
        calls. score: the extension's SELECT score_customer(id) or the peer's
        GET /features/{id} (features and model, nothing written); record:
        SELECT assess_customer(id) or POST /predict/{id} (features, model,
        top-5 SHAP contributions, the risk score row written).
    bulk --side peer --api URL --sample N --concurrency C
        the seed's way to re-score a book: POST /predict for every customer,
        C clients at once.
    bulk --side ext
        SELECT assess_all() over the whole book (after one warm-up run).
    health --api URL [--timeout S]
        waits until the service answers.
    stream --stats FILE --start T
        the figures of one run of processor.py (events/s since T, end-to-end
        latency percentiles, memory).

Prints "result KEY VALUE" lines for the bench script and a readable line
for people. The PG* environment variables name the database.
"""
import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import psycopg

from features import FEATURE_NAMES


def sample(conn, n):
    rows = conn.execute("SELECT customer_id FROM pre_delinquency.customers"
                        " ORDER BY md5(customer_id::text) LIMIT %s", (n,)).fetchall()
    return [r[0] for r in rows]


def result(key, value):
    print(f"result {key} {value}")


def agree(args):
    with psycopg.connect(autocommit=True) as conn, httpx.Client(base_url=args.api,
                                                               timeout=60) as http:
        ids = sample(conn, args.sample)
        as_of = conn.execute("SELECT %s::timestamptz", (args.as_of,)).fetchone()[0].isoformat()
        problems = []
        worst_feature, worst_score = 0.0, 0.0
        for c in ids:
            ours = conn.execute(
                "SELECT (pre_delinquency.customer_features(%(c)s, %(t)s)).*,"
                " pre_delinquency.score_customer(%(c)s, %(t)s)", {"c": c, "t": as_of}
            ).fetchone()
            response = http.get(f"/features/{c}", params={"as_of": as_of})
            response.raise_for_status()
            theirs = response.json()
            for name, a, b in zip(FEATURE_NAMES, ours[:31], theirs["features"]):
                diff = abs(a - b)
                scale = max(abs(a), abs(b))
                worst_feature = max(worst_feature, diff / scale if scale > 0 else diff)
                if diff > max(1e-9 * scale, 1e-9):
                    problems.append(f"customer {c}: {name} = {a!r} (pre_delinquency) "
                                    f"vs {b!r} (peer)")
            diff = abs(ours[31] - theirs["risk_score"])
            worst_score = max(worst_score, diff)
            if diff > 1e-6:
                problems.append(f"customer {c}: score {ours[31]!r} (pre_delinquency) "
                                f"vs {theirs['risk_score']!r} (peer)")
    result("agree_customers", len(ids) if not problems else 0)
    if problems or not ids:
        print(f"peer DISAGREES with pre_delinquency on {len(problems)} values "
              f"({len(ids)} customers as of {args.as_of}):")
        for p in problems[:20]:
            print("  " + p)
        return 1
    print(f"peer agrees with pre_delinquency on {len(ids)} customers as of {args.as_of} "
          f"(31 features, largest relative difference {worst_feature:.2g}; "
          f"scores, largest difference {worst_score:.2g})")
    return 0


def report(prefix, seconds, n, wall):
    ms = np.array(seconds) * 1000
    result(f"{prefix}_p50_ms", f"{np.percentile(ms, 50):.4f}")
    result(f"{prefix}_p99_ms", f"{np.percentile(ms, 99):.4f}")
    result(f"{prefix}_per_s", f"{n / wall:.2f}")


def score(args):
    with psycopg.connect(autocommit=True) as conn:
        ids = sample(conn, args.sample)
        if args.side == "ext":
            sql = {"score": "SELECT pre_delinquency.score_customer(%s)",
                   "record": "SELECT pre_delinquency.assess_customer(%s)"}[args.path]

            def call(c):
                conn.execute(sql, (c,)).fetchone()
        else:
            http = httpx.Client(base_url=args.api, timeout=60)
            method, path = {"score": ("GET", "/features/"),
                            "record": ("POST", "/predict/")}[args.path]

            def call(c):
                http.request(method, f"{path}{c}").raise_for_status()
        for c in ids[:5]:
            call(c)
        times = []
        start = time.perf_counter()
        for c in ids:
            t0 = time.perf_counter()
            call(c)
            times.append(time.perf_counter() - t0)
        wall = time.perf_counter() - start
    report(f"{args.path}_{args.side}", times, len(ids), wall)
    print(f"{args.side}: {len(ids)} calls ({args.path}), p50 {np.percentile(times, 50) * 1000:.3f} ms, "
          f"p99 {np.percentile(times, 99) * 1000:.3f} ms, {len(ids) / wall:.1f} calls/s")
    return 0


def health(args):
    """Waits until the service answers /health."""
    deadline = time.time() + args.timeout
    while time.time() < deadline:
        try:
            if httpx.get(f"{args.api}/health", timeout=2).status_code == 200:
                return 0
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    print(f"the peer's service did not answer at {args.api}/health within {args.timeout} s")
    return 1


def stream(args):
    """The figures of one processor run (its --stats file)."""
    with open(args.stats) as f:
        s = json.load(f)
    latencies = s["latencies_ms"] or [float("nan")]
    wall = (s["last"] or args.start) - args.start
    result("consumed", s["consumed"])
    result("acked", s["acked"])
    result("errors", s["errors"])
    result("events_per_s", f"{s['consumed'] / wall:.2f}" if wall > 0 else "nan")
    result("p50_ms", f"{np.percentile(latencies, 50):.1f}")
    result("p99_ms", f"{np.percentile(latencies, 99):.1f}")
    result("rss_anon_kb", s["rss_anon_kb"])
    return 0


def bulk(args):
    with psycopg.connect(autocommit=True) as conn:
        if args.side == "ext":
            conn.execute("SET client_min_messages = warning")
            conn.execute("SELECT pre_delinquency.assess_all()")  # warms the caches
            start = time.perf_counter()
            n = conn.execute("SELECT pre_delinquency.assess_all()").fetchone()[0]
            wall = time.perf_counter() - start
        else:
            ids = sample(conn, args.sample)
            n = len(ids)
            clients = [httpx.Client(base_url=args.api, timeout=60)
                       for _ in range(args.concurrency)]

            def run(k):
                for c in ids[k::args.concurrency]:
                    clients[k].post(f"/predict/{c}").raise_for_status()
            start = time.perf_counter()
            with ThreadPoolExecutor(args.concurrency) as pool:
                list(pool.map(run, range(args.concurrency)))
            wall = time.perf_counter() - start
    result(f"bulk_{args.side}_per_s", f"{n / wall:.2f}")
    print(f"{args.side}: re-scored {n} customers in {wall:.2f} s, {n / wall:.1f} customers/s")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    a = sub.add_parser("agree")
    a.add_argument("--api", required=True)
    a.add_argument("--sample", type=int, required=True)
    a.add_argument("--as-of", required=True)
    s = sub.add_parser("score")
    s.add_argument("--side", choices=["ext", "peer"], required=True)
    s.add_argument("--api")
    s.add_argument("--sample", type=int, required=True)
    s.add_argument("--path", choices=["score", "record"], required=True)
    b = sub.add_parser("bulk")
    b.add_argument("--side", choices=["ext", "peer"], required=True)
    b.add_argument("--api")
    b.add_argument("--sample", type=int, default=0)
    b.add_argument("--concurrency", type=int, default=2)
    t = sub.add_parser("stream")
    t.add_argument("--stats", required=True)
    t.add_argument("--start", type=float, required=True, help="epoch seconds the stream started")
    h = sub.add_parser("health")
    h.add_argument("--api", required=True)
    h.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    return {"agree": agree, "score": score, "bulk": bulk, "stream": stream,
            "health": health}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
