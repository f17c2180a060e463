"""
processor.py
    The seed system's feature processor, re-created for the benchmark peer:
    a Kafka consumer (confluent-kafka) that stores each transaction event in
    Postgres, and for each event that triggers a re-score (the rules of the
    extension's score_triggers seed rows) calls the prediction service over
    HTTP and publishes the prediction to a predictions topic.

One event at a time, as the seed did: poll, INSERT (autocommit), maybe one
HTTP call, produce. Runs until it has consumed --expect events (or has been
idle for --idle seconds after the first one), then writes its figures as JSON
to --stats: events, predictions acknowledged, end-to-end latencies (the
event's event_time to the broker's acknowledgement of the prediction, as the
extension's pipeline_stats measures), wall times, private memory. Writes
--ready (a file) once the consumer group has assigned it partitions.
"""
import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone

import httpx
import psycopg
from confluent_kafka import Consumer, Producer

BILL_CATEGORIES = {"utilities", "rent", "insurance", "loan_payment"}
LARGE_AMOUNT = 10000


def triggers(event):
    """The default score_triggers rules: failed, large debit, ATM, bill, salary."""
    debit = event["txn_type"] == "debit"
    return (event["is_failed"]
            or (debit and event["amount"] >= LARGE_AMOUNT)
            or (debit and event["channel"] == "atm")
            or (debit and event["category"] in BILL_CATEGORIES)
            or (not debit and event["category"] == "salary"))


def rss_anon_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--group", default="peer-feature-processor")
    ap.add_argument("--predictions-topic", default="peer-predictions-stream")
    ap.add_argument("--api", required=True, help="base URL of the prediction service")
    ap.add_argument("--expect", type=int, required=True, help="events to consume, then stop")
    ap.add_argument("--idle", type=float, default=60, help="give up after this many idle seconds")
    ap.add_argument("--no-triggers", action="store_true", help="store events only")
    ap.add_argument("--ready", required=True, help="file written once partitions are assigned")
    ap.add_argument("--stats", required=True, help="JSON figures, written at the end")
    args = ap.parse_args()

    conn = psycopg.connect(os.environ.get("PEER_DSN", ""), autocommit=True)
    http = httpx.Client(base_url=args.api, timeout=60)
    consumer = Consumer({"bootstrap.servers": args.brokers, "group.id": args.group,
                         "auto.offset.reset": "earliest", "enable.auto.commit": True})
    producer = Producer({"bootstrap.servers": args.brokers, "enable.idempotence": True,
                         "acks": "all"})
    stats = {"consumed": 0, "inserted": 0, "triggered": 0, "acked": 0, "errors": 0,
             "first": None, "last": None, "latencies_ms": []}

    def on_assign(c, partitions):
        with open(args.ready, "w") as f:
            f.write(f"{len(partitions)} partitions\n")

    def on_delivery(source_time):
        def report(err, msg):
            if err is None:
                stats["acked"] += 1
                stats["latencies_ms"].append((time.time() - source_time) * 1000)
            else:
                stats["errors"] += 1
        return report

    consumer.subscribe([args.topic], on_assign=on_assign)
    idle_since = time.time()
    while stats["consumed"] < args.expect and time.time() - idle_since < args.idle:
        msg = consumer.poll(0.5)
        producer.poll(0)
        if msg is None or msg.error():
            continue
        idle_since = time.time()
        stats["first"] = stats["first"] or idle_since
        stats["consumed"] += 1
        try:
            event = json.loads(msg.value())
            cur = conn.execute(
                "INSERT INTO peer.transactions (event_id, customer_id, txn_time, amount,"
                " txn_type, category, channel, merchant_id, is_failed)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (event_id) DO NOTHING",
                (event["event_id"], event["customer_id"], event["txn_time"], event["amount"],
                 event["txn_type"], event["category"], event["channel"], event["merchant_id"],
                 event["is_failed"]))
            stats["inserted"] += cur.rowcount
            if args.no_triggers or not triggers(event):
                continue
            stats["triggered"] += 1
            response = http.post(f"/predict/{event['customer_id']}")
            response.raise_for_status()
            prediction = response.json()
            source_time = datetime.fromisoformat(event["event_time"]).timestamp()
            payload = {"event_id": f"peer-{prediction['score_id']}", **prediction,
                       "source_event_id": event["event_id"],
                       "event_time": datetime.now(timezone.utc).isoformat(),
                       "event_type": "prediction"}
            producer.produce(args.predictions_topic, key=event["customer_id"],
                             value=json.dumps(payload), on_delivery=on_delivery(source_time))
        except Exception as e:  # a bad event must not stop the seed's loop
            stats["errors"] += 1
            print(f"processor: event at offset {msg.offset()}: {e}", file=sys.stderr)
        finally:
            stats["last"] = time.time()
    producer.flush(60)
    stats["rss_anon_kb"] = rss_anon_kb()
    consumer.close()
    with open(args.stats, "w") as f:
        json.dump(stats, f)
    return 0 if stats["consumed"] >= args.expect and stats["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
