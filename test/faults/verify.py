#!/usr/bin/env python3
"""What one fault case did, measured from both ends: the messages on
transactions-stream (read back with kcat) against the rows in Postgres (psql),
and every risk_scores / interventions row against predictions-stream /
interventions-stream.

  verify.py --brokers B --marks FILE [--topic T]

FILE holds the end offsets of the previous case per partition (JSON; absent:
from the beginning); the case's messages are those after it, and FILE is
rewritten with the new end offsets. Expected outcome of a message:
  header pd-expect=<reason>|ok  (the poison corpus, sent by run.sh)
  header pd-bad=<kind>          (bin/pd_simulate --bad-fraction), see KINDS
  no header                     a good event: one transactions row
Prints one line of key=value figures; the problems, if any, on stderr.
Only the Python standard library: psql and kcat do the talking.
"""
import argparse
import hashlib
import json
import subprocess
import sys
import uuid

# pd_simulate's bad kinds and the dead-letter reason each must get
KINDS = {
    "truncated": "malformed_json",
    "wrong_type": "wrong_type",
    "unknown_customer": "unknown_customer",
    "negative_amount": "bad_amount",
    "unknown_category": "unknown_category",
    "missing_field": "missing_field",
    "binary_garbage": "malformed_json",
}


def kcat(brokers, topic, fmt):
    out = subprocess.run(
        ["kcat", "-b", brokers, "-C", "-t", topic, "-e", "-o", "beginning", "-q",
         "-X", "fetch.message.max.bytes=33554432", "-f", fmt],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, timeout=600)
    if out.returncode != 0:
        sys.exit("kcat could not read %s: %s" % (topic, out.stderr.decode(errors="replace")))
    return out.stdout


def read_transactions(brokers, topic):
    """(partition, offset, headers, payload or None) of every message."""
    data = kcat(brokers, topic, "%p %o %S %h\t%s\n")
    pos, msgs = 0, []
    while pos < len(data):
        tab = data.index(b"\t", pos)
        p, o, size, *hdr = data[pos:tab].decode().split(" ", 3)
        size = int(size)
        payload = None if size < 0 else data[tab + 1:tab + 1 + size]
        pos = tab + 1 + max(size, 0) + 1
        headers = {}
        for h in (hdr[0] if hdr else "").split(","):
            if "=" in h:
                k, v = h.split("=", 1)
                headers[k] = v
        msgs.append((int(p), int(o), headers, payload))
    return msgs


def psql(sql):
    out = subprocess.run(["psql", "-qXAt", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         stdout=subprocess.PIPE, check=True)
    return [line.split("|") for line in out.stdout.decode().splitlines() if line]


def derived_id(topic, partition, offset):
    """ingest.c's id for an event without one: md5 of topic/partition/offset."""
    d = bytearray(hashlib.md5(("%s/%d/%d" % (topic, partition, offset)).encode()).digest())
    d[6] = (d[6] & 0x0F) | 0x30
    d[8] = (d[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(d)))


def expected_of(topic, p, o, headers, payload):
    """('row', event_id) or ('dead', reason)."""
    if "pd-expect" in headers and headers["pd-expect"] != "ok":
        return ("dead", headers["pd-expect"])
    if "pd-bad" in headers:
        return ("dead", KINDS[headers["pd-bad"]])
    event = json.loads(payload)
    return ("row", event.get("event_id") or derived_id(topic, p, o))


def topic_ids(brokers, topic, field):
    ids, lines = set(), 0
    for line in kcat(brokers, topic, "%s\n").splitlines():
        lines += 1
        ids.add(str(json.loads(line)[field]))
    return ids, lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--marks", required=True)
    ap.add_argument("--topic", default="transactions-stream")
    a = ap.parse_args()
    try:
        start = {int(k): v for k, v in json.load(open(a.marks)).items()}
    except FileNotFoundError:
        start = {}

    msgs = read_transactions(a.brokers, a.topic)
    end = dict(start)
    for p, o, _, _ in msgs:
        end[p] = max(end.get(p, 0), o + 1)
    case = [m for m in msgs if m[1] >= start.get(m[0], 0)]

    rows = {r[0]: int(r[1]) for r in psql(
        "SELECT event_id, count(*) FROM pre_delinquency.transactions GROUP BY 1")}
    dead = {}
    for p, o, reason in psql(
            "SELECT kafka_partition, kafka_offset, reason FROM pre_delinquency.dead_letters "
            "WHERE topic = '%s'" % a.topic):
        dead.setdefault((int(p), int(o)), []).append(reason)

    problems = []
    want_ids, n_dead_expected = set(), 0
    lost = dups = wrong_reason = unexpected_dead = 0
    for p, o, headers, payload in case:
        kind, what = expected_of(a.topic, p, o, headers, payload)
        got = dead.get((p, o), [])
        if kind == "dead":
            n_dead_expected += 1
            if not got:
                lost += 1
                problems.append("no dead letter for %d/%d (expected %s)" % (p, o, what))
            elif got[0] != what:
                wrong_reason += 1
                problems.append("dead letter %d/%d: %s, expected %s" % (p, o, got[0], what))
            dups += max(len(got) - 1, 0)
        else:
            want_ids.add(what)
            if got:
                unexpected_dead += 1
                problems.append("good event %d/%d dead-lettered: %s" % (p, o, got))
    for i in want_ids:
        n = rows.get(i, 0)
        if n == 0:
            lost += 1
            problems.append("event %s has no row" % i)
        dups += max(n - 1, 0)
    in_db = sum(min(rows.get(i, 0), 1) for i in want_ids) + sum(
        len(dead.get((p, o), [])) for p, o, _, _ in case)

    scores = {r[0] for r in psql("SELECT score_id FROM pre_delinquency.risk_scores")}
    interventions = {r[0] for r in psql(
        "SELECT intervention_id FROM pre_delinquency.interventions")}
    p_ids, p_msgs = topic_ids(a.brokers, "predictions-stream", "event_id")
    i_ids, i_msgs = topic_ids(a.brokers, "interventions-stream", "intervention_id")
    missing = len(scores - p_ids) + len(interventions - i_ids)
    if missing:
        problems.append("%d risk scores and %d interventions not on their topics"
                        % (len(scores - p_ids), len(interventions - i_ids)))

    json.dump({str(k): v for k, v in end.items()}, open(a.marks, "w"))
    for line in problems[:20]:
        print(line, file=sys.stderr)
    print("sent=%d distinct_good=%d dead_expected=%d in_db=%d duplicates=%d lost=%d "
          "wrong_reason=%d good_dead_lettered=%d scores=%d interventions=%d "
          "prediction_msgs=%d intervention_msgs=%d missing_on_topic=%d"
          % (len(case), len(want_ids), n_dead_expected, in_db, dups, lost, wrong_reason,
             unexpected_dead, len(scores), len(interventions), p_msgs, i_msgs, missing))


if __name__ == "__main__":
    main()
