#!/usr/bin/env python3
"""Writes the fuzzer's seed corpus, test/fuzz/corpus/ (committed; rerun this
after changing it): valid events of the seed system (as its Python producer
and bin/pd_simulate write them) and a poison corpus of what a hostile or
broken producer could send. Each file is one Kafka payload."""
import json
import os
import shutil

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "corpus")

SEED = {
    "event_id": "0b9f6a1e-3c2d-4e5f-8a7b-112233445566",
    "customer_id": "5f0c8a2e-91b4-4d3c-a7e6-0123456789ab",
    "txn_time": "2024-05-01T12:34:56.123456",
    "amount": 1523.5,
    "txn_type": "debit",
    "category": "groceries",
    "channel": "upi",
    "merchant_id": "MERCH_0042",
    "is_failed": False,
    "event_time": "2024-05-01T12:34:56.200000+05:30",
    "event_type": "transaction",
}

files = {}


def add(name, payload):
    if isinstance(payload, str):
        payload = payload.encode("utf-8", "surrogatepass")
    files[name] = payload


def event(**changes):
    e = dict(SEED)
    for k, v in changes.items():
        if v is Ellipsis:
            e.pop(k, None)
        else:
            e[k] = v
    return e


def dumps(e, **kw):
    return json.dumps(e, **kw)


# --- valid events ------------------------------------------------------------
add("valid-seed", dumps(SEED))
add("valid-compact", dumps(SEED, separators=(",", ":")))
add("valid-pretty", dumps(SEED, indent=2))
add("valid-minimal", dumps({k: SEED[k] for k in
                            ("customer_id", "txn_time", "amount", "txn_type",
                             "category", "channel")}))
add("valid-credit-salary", dumps(event(txn_type="credit", category="salary",
                                       amount=85000, channel="netbanking")))
add("valid-credit-refund", dumps(event(txn_type="credit", category="refund",
                                       amount=0.01)))
add("valid-loan-payment", dumps(event(category="loan_payment",
                                      channel="autodebit", amount=12500.75,
                                      is_failed=True)))
add("valid-atm", dumps(event(category="atm", channel="atm", amount=2000,
                             merchant_id=None)))
add("valid-no-dashes", dumps(event(customer_id="5F0C8A2E91B44D3CA7E60123456789AB",
                                   event_id=None)))
add("valid-times", dumps(event(txn_time="2024-02-29 23:59:59Z",
                               event_time="1999-12-31T23:59:59.999999999-0800")))
add("valid-max-amount", dumps(event(amount=1e9)))
add("valid-merchant-64", dumps(event(merchant_id="M" * 64)))
add("valid-unicode-merchant", dumps(event(merchant_id="Café \u20ac \U0001F600"),
                                    ensure_ascii=False))
add("valid-escaped-merchant", dumps(event(merchant_id="Caf\u00e9 \U0001F600")))
add("valid-unknown-fields", dumps(event(extra={"nested": [1, 2, {"a": None}]},
                                        note="x")))
for i, channel in enumerate(("pos", "card", "online", "upi", "netbanking",
                             "atm", "branch", "autodebit")):
    add("valid-channel-%d" % i, dumps(event(channel=channel)))
for cat in ("utilities", "rent", "insurance", "healthcare", "dining",
            "entertainment", "shopping", "travel", "transport", "education",
            "transfer_out", "other"):
    add("valid-category-" + cat, dumps(event(category=cat)))
add("valid-transfer-in", dumps(event(txn_type="credit", category="transfer_in")))

# --- malformed and truncated JSON ---------------------------------------------
seed = dumps(SEED)
for n in (0, 1, 2, 10, 40, 100, len(seed) // 2, len(seed) - 2, len(seed) - 1):
    add("poison-truncated-%d" % n, seed[:n])
add("poison-not-json", "hello world")
add("poison-array", "[" + seed + "]")
add("poison-string", '"a string"')
add("poison-number", "42")
add("poison-null", "null")
add("poison-single-quotes", seed.replace('"', "'"))
add("poison-trailing-comma", seed[:-1] + ",}")
add("poison-trailing-garbage", seed + "x")
add("poison-two-objects", seed + seed)
add("poison-comment", "/* c */" + seed)
add("poison-unquoted-key", seed.replace('"amount"', "amount"))
add("poison-leading-zero", seed.replace("1523.5", "01523.5"))
add("poison-dot-number", seed.replace("1523.5", "1523."))
add("poison-bare-dot", seed.replace("1523.5", ".5"))
add("poison-plus-number", seed.replace("1523.5", "+1523.5"))
add("poison-hex-number", seed.replace("1523.5", "0x10"))
add("poison-raw-newline-in-string", seed.replace("MERCH_0042", "MERCH\n0042"))
add("poison-bad-escape", seed.replace("MERCH_0042", "MERCH\\x0042"))
add("poison-short-u-escape", seed.replace("MERCH_0042", "MERCH\\u00"))
add("poison-whitespace-only", "   \n\t ")

# --- wrong types, missing and unknown values ----------------------------------
for field, value in (("amount", "1523.50"), ("amount", True), ("amount", [1]),
                     ("amount", {"v": 1}), ("customer_id", 12345),
                     ("customer_id", "not-a-uuid"),
                     ("customer_id", "{5f0c8a2e-91b4-4d3c-a7e6-0123456789ab}"),
                     ("txn_time", 1714566896), ("txn_time", "yesterday"),
                     ("txn_time", "2024-02-30T00:00:00"),
                     ("txn_time", "2024-05-01T24:00:00"),
                     ("txn_time", "2024-05-01T12:00:60"),
                     ("txn_time", "1899-12-31T23:59:59"),
                     ("txn_time", "10000-01-01T00:00:00"),
                     ("txn_time", "2024-05-01T12:00:00+24:00"),
                     ("is_failed", "false"), ("is_failed", 0),
                     ("event_id", 7), ("event_id", "x"),
                     ("merchant_id", 42), ("merchant_id", "M" * 65),
                     ("event_type", "prediction"), ("event_type", 1),
                     ("txn_type", "refund"), ("txn_type", "DEBIT"),
                     ("category", "salary"), ("category", "Groceries"),
                     ("channel", "pigeon"), ("channel", None),
                     ("event_time", 3), ("event_time", "soon")):
    tag = field + "-" + (json.dumps(value)[:24].replace("/", "_")
                         .replace('"', "").replace(" ", "_") or "empty")
    add("poison-type-" + tag, dumps(event(**{field: value})))
for field in ("customer_id", "txn_time", "amount", "txn_type", "category",
              "channel"):
    add("poison-missing-" + field, dumps(event(**{field: Ellipsis})))
    add("poison-null-" + field, dumps(event(**{field: None})))
add("poison-credit-groceries", dumps(event(txn_type="credit")))
add("poison-empty-object", "{}")

# --- amounts: NaN, huge, negative, fractions of a cent ------------------------
for tag, raw in (("nan", "NaN"), ("inf", "Infinity"), ("neg-inf", "-Infinity"),
                 ("zero", "0"), ("neg-zero", "-0.0"), ("negative", "-15.25"),
                 ("tiny", "1e-300"), ("half-cent", "0.005"),
                 ("third", "0.333333333"), ("huge", "1e308"),
                 ("overflow", "1e400"), ("over-max", "1000000000.01"),
                 ("int64-max", "9223372036854775807"),
                 ("int64-over", "92233720368547758070"),
                 ("int64-min", "-9223372036854775808"),
                 ("long-fraction", "1." + "0" * 400 + "1"),
                 ("long-integer", "1" * 500), ("exp", "1.5e2"),
                 ("big-exp", "1e999999999999")):
    add("poison-amount-" + tag, seed.replace("1523.5", raw))

# --- empty, binary and huge payloads ------------------------------------------
add("poison-empty", b"")
add("poison-nul", b"\x00")
add("poison-binary", bytes(range(256)))
add("poison-binary-object", b"{\"a\":\"" + bytes(range(0x80, 0x100)) + b"\"}")
add("poison-bom", b"\xef\xbb\xbf" + seed.encode())
add("poison-utf16", seed.encode("utf-16"))
add("poison-huge-merchant", dumps(event(merchant_id="M" * 60000)))
add("poison-oversized", dumps(event(note="x" * 70000)))
add("poison-many-keys", "{" + ",".join('"k%d":%d' % (i, i) for i in range(3000)) + "}")
add("poison-long-key", dumps(event(**{"k" * 5000: 1})))

# --- deep nesting -------------------------------------------------------------
add("poison-deep-16", seed[:-1] + ', "x": ' + "[" * 15 + "]" * 15 + "}")
add("poison-deep-17", seed[:-1] + ', "x": ' + "[" * 16 + "]" * 16 + "}")
add("poison-deep-1000", "[" * 1000 + "]" * 1000)
add("poison-deep-objects", '{"a":' * 40 + "1" + "}" * 40)
add("poison-deep-unclosed", "[" * 5000)

# --- duplicate keys -----------------------------------------------------------
add("poison-dup-amount-last-bad", seed[:-1] + ', "amount": -1}')
add("poison-dup-amount-last-good", '{"amount": -1, ' + seed[1:])
add("poison-dup-customer", seed[:-1] + ', "customer_id": "x"}')

# --- invalid UTF-8 ------------------------------------------------------------
for tag, raw in (("overlong", b"\xc0\xaf"), ("surrogate", b"\xed\xa0\x80"),
                 ("lone-continuation", b"\x80"), ("truncated-seq", b"\xe2\x82"),
                 ("above-max", b"\xf4\x90\x80\x80"), ("ff", b"\xff"),
                 ("five-byte", b"\xf8\x88\x80\x80\x80")):
    add("poison-utf8-" + tag, seed.encode().replace(b"MERCH_0042", b"MERCH" + raw))
    add("poison-utf8-key-" + tag, seed.encode().replace(b'"channel"', b'"chan' + raw + b'"'))
add("poison-lone-high-surrogate", seed.replace("MERCH_0042", "MERCH\\ud800"))
add("poison-lone-low-surrogate", seed.replace("MERCH_0042", "MERCH\\udc00"))
add("poison-pair-surrogate", seed.replace("MERCH_0042", "MERCH\\ud83d\\ude00"))

# --- \u0000 escapes -----------------------------------------------------------
add("poison-nul-merchant", seed.replace("MERCH_0042", "MERCH\\u00000042"))
add("poison-nul-channel", seed.replace('"upi"', '"upi\\u0000"'))
add("poison-nul-category", seed.replace('"groceries"', '"groceries\\u0000x"'))
add("poison-nul-customer", seed.replace("0123456789ab", "0123456789\\u0000"))
add("poison-nul-time", seed.replace("12:34:56.123456", "12:34:56\\u0000123"))
add("poison-nul-key", seed.replace('"amount"', '"amount\\u0000"'))
add("poison-raw-nul-in-string", seed.encode().replace(b"MERCH_0042", b"MERCH\x000042"))

if os.path.isdir(out):
    shutil.rmtree(out)
os.makedirs(out)
for name, payload in sorted(files.items()):
    with open(os.path.join(out, name), "wb") as f:
        f.write(payload)
print("%d files in %s" % (len(files), os.path.relpath(out)))
