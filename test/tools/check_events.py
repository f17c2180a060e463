#!/usr/bin/env python3
"""Checks what pd_simulate wrote to a topic, as read back by kcat.

Input: kcat's output with the format
    '%p\\t%o\\t%K\\t%k\\t%S\\t%h\\n%s\\n'
(partition, offset, key length, key, payload length, headers, then exactly
payload-length bytes), so binary payloads survive. One subcommand per check;
each prints what it found and exits 1 with the reason if the check fails.

    valid FILE COUNT CUSTOMERS    every message a valid event of a known customer
    bad FILE COUNT BAD CUSTOMERS  the malformed ones are of the kinds claimed
    same FILE_A FILE_B            the same choices (per partition) in both runs
    replay FILE ROWS_CSV          the stored rows, all fields, in time order
"""
import csv
import json
import re
import sys
from datetime import datetime, timezone
from decimal import Decimal

CREDIT = {"salary", "transfer_in", "refund"}
DEBIT = {"groceries", "utilities", "rent", "insurance", "healthcare", "dining",
         "entertainment", "shopping", "travel", "transport", "education",
         "loan_payment", "atm", "transfer_out", "other"}
CHANNELS = {"pos", "card", "online", "upi", "netbanking", "atm", "branch",
            "autodebit"}
FIELDS = ["event_id", "customer_id", "txn_time", "amount", "txn_type",
          "category", "channel", "merchant_id", "is_failed", "event_time",
          "event_type"]
REQUIRED = ["customer_id", "txn_time", "amount", "txn_type", "category",
            "channel"]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
KINDS = ["truncated", "wrong_type", "unknown_customer", "negative_amount",
         "unknown_category", "missing_field", "binary_garbage"]


def fail(msg):
    print("  " + msg)
    sys.exit(1)


def read_messages(path):
    """[(partition, offset, key, headers, payload bytes)] in file order."""
    data = open(path, "rb").read()
    out, pos = [], 0
    while pos < len(data):
        nl = data.index(b"\n", pos)
        head = data[pos:nl].split(b"\t")
        if len(head) != 6:
            fail(f"unreadable kcat header at byte {pos}: {data[pos:nl][:80]!r}")
        part, off, _klen, key, size, hdrs = head
        start = nl + 1
        payload = data[start:start + int(size)]
        pos = start + int(size) + 1  # the newline kcat adds
        out.append((int(part), int(off), key.decode(), hdrs.decode(), payload))
    return out


def parse_time(s):
    """A UTC time from ISO-8601 ("...Z") or Postgres text ("... 12:00:00")."""
    t = datetime.fromisoformat(s.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def schema_errors(ev, customers):
    """Why ev is not a valid transaction event (empty list: it is)."""
    errs = []
    if not isinstance(ev, dict):
        return ["not an object"]
    if list(ev.keys()) != FIELDS:
        errs.append(f"fields {list(ev.keys())}")
        return errs
    for f in ("event_id", "customer_id"):
        if not isinstance(ev[f], str) or not UUID.match(ev[f]):
            errs.append(f"{f} {ev[f]!r} is not a uuid")
    for f in ("txn_time", "event_time"):
        if not isinstance(ev[f], str) or not TIME.match(ev[f]):
            errs.append(f"{f} {ev[f]!r} is not ISO-8601 UTC")
    a = ev["amount"]
    if isinstance(a, bool) or not isinstance(a, (int, float)) or a <= 0:
        errs.append(f"amount {a!r}")
    if ev["txn_type"] == "credit":
        if ev["category"] not in CREDIT:
            errs.append(f"credit category {ev['category']!r}")
    elif ev["txn_type"] == "debit":
        if ev["category"] not in DEBIT:
            errs.append(f"debit category {ev['category']!r}")
    else:
        errs.append(f"txn_type {ev['txn_type']!r}")
    if ev["channel"] not in CHANNELS:
        errs.append(f"channel {ev['channel']!r}")
    m = ev["merchant_id"]
    if m is not None and (not isinstance(m, str) or m == ""):
        errs.append(f"merchant_id {m!r}")
    if not isinstance(ev["is_failed"], bool):
        errs.append(f"is_failed {ev['is_failed']!r}")
    if ev["event_type"] != "transaction":
        errs.append(f"event_type {ev['event_type']!r}")
    if customers is not None and ev.get("customer_id") not in customers:
        errs.append(f"unknown customer {ev.get('customer_id')}")
    return errs


def load_customers(path):
    return {line.strip() for line in open(path) if line.strip()}


def decode(payload):
    try:
        return json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def cmd_valid(path, count, customers_path):
    msgs = read_messages(path)
    customers = load_customers(customers_path)
    if len(msgs) != count:
        fail(f"{len(msgs)} messages, expected {count}")
    ids, cats, chans, failed, merch = set(), {}, {}, 0, 0
    for part, off, key, hdrs, payload in msgs:
        ev = decode(payload)
        if ev is None:
            fail(f"p{part}@{off}: not JSON: {payload[:80]!r}")
        errs = schema_errors(ev, customers)
        if errs:
            fail(f"p{part}@{off}: {'; '.join(errs)}")
        if key != ev["customer_id"]:
            fail(f"p{part}@{off}: key {key} is not the customer_id")
        if hdrs:
            fail(f"p{part}@{off}: unexpected headers {hdrs}")
        if ev["event_id"] in ids:
            fail(f"p{part}@{off}: event_id {ev['event_id']} twice")
        ids.add(ev["event_id"])
        cats[ev["category"]] = cats.get(ev["category"], 0) + 1
        chans[ev["channel"]] = chans.get(ev["channel"], 0) + 1
        failed += ev["is_failed"]
        merch += ev["merchant_id"] is not None
        # money has two decimals at most
        if Decimal(str(ev["amount"])).as_tuple().exponent < -2:
            fail(f"p{part}@{off}: amount {ev['amount']} has more than 2 decimals")
    if count >= 500 and len(cats) < 10:
        fail(f"only {len(cats)} categories in {count} events: {cats}")
    top = sorted(cats.items(), key=lambda kv: -kv[1])[:6]
    print(f"  {count} valid events, {len(cats)} categories (top {top}), "
          f"{len(chans)} channels, {failed} failed, {merch} with a merchant")


def classify(payload, customers):
    """The kind of malformed event payload is, None if it is a valid one."""
    if payload[:1] == b"\xff":
        return "binary_garbage"
    ev = decode(payload)
    if ev is None:
        return "truncated"
    if not isinstance(ev, dict):
        return "other"
    missing = [f for f in REQUIRED if f not in ev]
    if missing:
        return "missing_field"
    if (not isinstance(ev["amount"], (int, float)) or isinstance(ev["amount"], bool)
            or not isinstance(ev["is_failed"], bool)
            or not isinstance(ev["customer_id"], str)
            or not isinstance(ev["txn_time"], str)):
        return "wrong_type"
    if ev["amount"] < 0:
        return "negative_amount"
    if ev["category"] not in CREDIT | DEBIT:
        return "unknown_category"
    if ev["customer_id"] not in customers:
        return "unknown_customer"
    return None if not schema_errors(ev, customers) else "other"


def cmd_bad(path, count, bad, customers_path):
    msgs = read_messages(path)
    customers = load_customers(customers_path)
    if len(msgs) != count:
        fail(f"{len(msgs)} messages, expected {count}")
    found = {}
    for part, off, key, hdrs, payload in msgs:
        kind = classify(payload, customers)
        claimed = hdrs[len("pd-bad="):] if hdrs.startswith("pd-bad=") else None
        if kind != claimed:
            fail(f"p{part}@{off}: looks {kind or 'valid'}, header says "
                 f"{claimed or 'valid'}: {payload[:100]!r}")
        if kind is not None:
            found[kind] = found.get(kind, 0) + 1
    if sum(found.values()) != bad:
        fail(f"{sum(found.values())} malformed events, expected {bad}: {found}")
    if bad >= len(KINDS) and set(found) != set(KINDS):
        fail(f"kinds missing: {sorted(set(KINDS) - set(found))}")
    print(f"  {count - bad} valid, {bad} malformed: {found}")


def choices(path):
    """Per partition, the sequence of what was chosen (not ids or times)."""
    per = {}
    for part, off, key, hdrs, payload in read_messages(path):
        ev = decode(payload)
        if hdrs:  # malformed: its kind and key (ids and times are fresh)
            t = (key, hdrs)
        else:
            t = (ev["customer_id"], ev["txn_type"], ev["category"],
                 ev["channel"], str(ev["amount"]), ev["merchant_id"],
                 ev["is_failed"])
        per.setdefault(part, []).append((off, t))
    return {p: [t for _, t in sorted(v)] for p, v in per.items()}


def cmd_same(a, b):
    ca, cb = choices(a), choices(b)
    n = sum(len(v) for v in ca.values())
    if ca != cb:
        fail("the two runs with the same seed chose differently")
    print(f"  {n} events, the same choices in both runs")


def cmd_replay(path, rows_csv):
    rows = list(csv.reader(open(rows_csv)))
    expected = {r[0]: r for r in rows}
    order = {r[0]: i for i, r in enumerate(rows)}
    msgs = read_messages(path)
    if len(msgs) != len(rows):
        fail(f"{len(msgs)} messages, {len(rows)} stored rows in the range")
    last = {}
    for part, off, key, hdrs, payload in sorted(msgs, key=lambda m: (m[0], m[1])):
        ev = decode(payload)
        if ev is None or schema_errors(ev, None):
            fail(f"p{part}@{off}: not a valid event: {payload[:100]!r}")
        r = expected.get(ev["event_id"])
        if r is None:
            fail(f"p{part}@{off}: event_id {ev['event_id']} is not a stored row")
        event_id, customer, txn_time, amount, txn_type, category, channel, \
            merchant, is_failed = r
        got = (ev["customer_id"], parse_time(ev["txn_time"]),
               Decimal(str(ev["amount"])), ev["txn_type"], ev["category"],
               ev["channel"], ev["merchant_id"] or "", ev["is_failed"])
        want = (customer, parse_time(txn_time), Decimal(amount), txn_type,
                category, channel, merchant, is_failed == "t")
        if got != want:
            fail(f"p{part}@{off}: {got} != stored {want}")
        if key != customer:
            fail(f"p{part}@{off}: key {key} is not the customer_id")
        # within a partition, the stored (txn_time, event_id) order
        if part in last and order[event_id] < last[part]:
            fail(f"p{part}@{off}: out of time order")
        last[part] = order[event_id]
        del expected[event_id]
    print(f"  {len(rows)} stored rows streamed, fields equal, in time order "
          f"within each of {len(last)} partitions")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "valid":
        cmd_valid(args[0], int(args[1]), args[2])
    elif cmd == "bad":
        cmd_bad(args[0], int(args[1]), int(args[2]), args[3])
    elif cmd == "same":
        cmd_same(args[0], args[1])
    elif cmd == "replay":
        cmd_replay(args[0], args[1])
    else:
        fail(f"unknown check {cmd}")


if __name__ == "__main__":
    main()
