#!/usr/bin/env python3
"""Stripe's API as its published description defines it, for tests: every request is checked
against Stripe's own OpenAPI description (server/tests/stripe/spec3.json, kept whole as Stripe
published it, API version 2020-08-27) by an independent JSON Schema validator (jsonschema_rs),
and every answer is built from Stripe's own example objects (fixtures3.json) and checked
against the description's schema of that answer before it is sent.

Prism (the mock server the description was first tried with) does not finish loading this
description, whole or cut to the operations Settle calls, in 15 minutes on these machines;
this server loads it in under a second because it resolves references lazily.

    stripe-mock.py PORT_FILE [SPEC_DIR]

Listens on 127.0.0.1 on a free port and writes the port to PORT_FILE. Besides Stripe's paths:
  GET  /_mock/report                      {"validated": n, "violations": [...], "requests": [...]}
  POST /_mock/payment_intents/{id}/{end}  a bank debit's end: end = succeeded | failed
  POST /_mock/validate/{schema}           {"problems": [...]}: a test's answer checked against the
                                          description's schema of that name
  POST /_mock/fail_next                   {"status": 429|500|503, "times": n, "operation": path?}:
                                          the next n API requests (of that operation) answer that
                                          status with Stripe's error object
  POST /_mock/forget_keys                 idempotency keys forgotten, as Stripe does after 24 h
  POST /_mock/hold                        {"seconds": s}: the next PaymentIntent create waits
                                          s seconds after recording it (a crash window)
  POST /_mock/disputes                    {"payment_intent": id, "reason": r?}: the cardholder's
                                          bank disputes the intent's charge; answers the dispute
  POST /_mock/disputes/{id}/{end}         end = won | lost: the dispute closed

What it does, as Stripe documents it (https://stripe.com/docs/testing): the test card numbers
4242424242424242 (credit), 4000056655665556 (debit), 5105105105105100 (prepaid) and
6011111111111117 (unknown funding) succeed; 4000000000000002 is declined (generic_decline),
4000000000009995 is declined (insufficient_funds), 4000002500003155 requires authentication
when the cardholder is not present. A us_bank_account PaymentIntent is `processing` until
/_mock/payment_intents/{id}/succeeded or /failed. The same Idempotency-Key with the same
request answers the first answer again; with another request, 400 idempotency_error.

Money that moves is written to the balance as Stripe does (GET /v1/balance_transactions, newest
first, `created` ranges, `starting_after` pages, `expand[]=data.source`): a card charge
(type charge) and a bank debit that succeeded (type payment) under reporting category charge,
a refund (refund), a dispute's withdrawal (adjustment, category dispute) and its reinstatement
when won (adjustment, dispute_reversal). Fees at Stripe's published US standard prices: cards
2.9 % + 30 cents, ACH Direct Debit 0.8 % capped at $5.00, $15.00 a dispute; a refund or a
dispute won gives none back.
"""
import base64
import copy
import json
import os
import re
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit

import jsonschema_rs

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC_DIR = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "server", "tests", "stripe")
SPEC = json.load(open(os.path.join(SPEC_DIR, "spec3.json")))
FIXTURES = json.load(open(os.path.join(SPEC_DIR, "fixtures3.json")))["resources"]
VERSION = SPEC["info"]["version"]


def as_json_schema(node):
    """OpenAPI 3.0 schema objects as JSON Schema: `nullable: true` becomes a null type."""
    if isinstance(node, list):
        return [as_json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: as_json_schema(v) for k, v in node.items()}
    if out.pop("nullable", False):
        if "type" in out:
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = out["enum"] + [None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


ROOT = as_json_schema(SPEC)
VALIDATORS = {}
VALIDATORS_LOCK = threading.Lock()


def escape(token):
    return token.replace("~", "~0").replace("/", "~1")


def validator(pointer):
    """A validator for the schema at `pointer` in the description, its references resolved
    against the whole description."""
    with VALIDATORS_LOCK:
        v = VALIDATORS.get(pointer)
        if v is None:
            schema = dict(ROOT)
            schema["$ref"] = "#" + quote(pointer, safe="/~")
            schema["$schema"] = "http://json-schema.org/draft-04/schema#"
            v = jsonschema_rs.Draft4Validator(schema)
            VALIDATORS[pointer] = v
        return v


def problems(pointer, instance):
    return [f"{'/'.join(map(str, e.instance_path)) or '(root)'}: {e.message}"[:400]
            for e in validator(pointer).iter_errors(instance)][:10]


def schema_at(pointer):
    node = ROOT
    for part in pointer.strip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def resolve(schema):
    while isinstance(schema, dict) and "$ref" in schema:
        schema = schema_at(schema["$ref"][1:])
    return schema


# ---- requests as Stripe reads them ----------------------------------------------------------

def nest(pairs):
    """`a[b][c]=v`, `a[]=v` and `a[0]=v` into nested objects and arrays, as Stripe reads forms."""
    root = {}
    for key, value in pairs:
        m = re.match(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$", key)
        if not m:
            raise ValueError(f"malformed parameter name {key!r}")
        parts = [m.group(1)] + re.findall(r"\[([^\[\]]*)\]", m.group(2))
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt = None if last else parts[i + 1]
            if isinstance(node, list):
                if part == "":
                    if last:
                        node.append(value)
                        break
                    node.append([] if nxt == "" or (nxt or "").isdigit() else {})
                    node = node[-1]
                    continue
                index = int(part)
                while len(node) <= index:
                    node.append(None)
                if last:
                    node[index] = value
                    break
                if node[index] is None:
                    node[index] = [] if nxt == "" or nxt.isdigit() else {}
                node = node[index]
                continue
            if last:
                if part in node:
                    raise ValueError(f"parameter {key!r} given twice")
                node[part] = value
                break
            if part not in node:
                node[part] = [] if nxt == "" or nxt.isdigit() else {}
            node = node[part]
    return root


def coerce(value, schema):
    """Form values are strings; the description says which are integers, booleans, numbers."""
    schema = resolve(schema)
    if not isinstance(schema, dict):
        return value
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        for option in options:
            candidate = coerce(value, option)
            if jsonschema_rs.is_valid(resolve_deep(option, 0), candidate):
                return candidate
        return value
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if isinstance(value, str):
        if "integer" in kinds and re.fullmatch(r"-?\d+", value):
            return int(value)
        if "number" in kinds and re.fullmatch(r"-?\d+(\.\d+)?", value):
            return float(value)
        if "boolean" in kinds and value in ("true", "false"):
            return value == "true"
        if "object" in kinds and value == "" and "string" not in kinds:
            return value
        return value
    if isinstance(value, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        return {k: coerce(v, props.get(k, extra if isinstance(extra, dict) else {}))
                for k, v in value.items()}
    if isinstance(value, list):
        return [coerce(v, schema.get("items", {})) for v in value]
    return value


def resolve_deep(schema, depth):
    """A schema with its references inlined a few levels deep, to choose an anyOf branch."""
    schema = resolve(schema)
    if depth > 6 or not isinstance(schema, dict):
        return schema if isinstance(schema, dict) else {}
    out = {}
    for k, v in schema.items():
        if k in ("properties",):
            out[k] = {p: resolve_deep(s, depth + 1) for p, s in v.items()}
        elif k in ("items", "additionalProperties") and isinstance(v, dict):
            out[k] = resolve_deep(v, depth + 1)
        elif k in ("anyOf", "oneOf", "allOf"):
            out[k] = [resolve_deep(s, depth + 1) for s in v]
        else:
            out[k] = v
    return out


OPERATIONS = []
for path, item in SPEC["paths"].items():
    pattern = "^" + re.sub(r"\{([^}]+)\}", r"(?P<\1>[^/]+)", path) + "$"
    for method, operation in item.items():
        if method in ("get", "post", "delete"):
            OPERATIONS.append((path.count("{"), re.compile(pattern), method, path, operation))
OPERATIONS.sort(key=lambda o: o[0])


def find_operation(method, path):
    for _, pattern, m, template, operation in OPERATIONS:
        if m == method and pattern.match(path):
            return template, operation, pattern.match(path).groupdict()
    return None, None, None


def check_request(method, path, query, headers, body):
    """The ways this request differs from the description (empty when it conforms), the
    operation's path template and the parsed parameters."""
    template, operation, path_params = find_operation(method.lower(), path)
    if operation is None:
        return [f"{method} {path} is not an operation of the description"], None, {}
    found = []
    auth = headers.get("Authorization", "")
    if not (auth.startswith("Bearer ") or auth.startswith("Basic ")):
        found.append("no Authorization header (basicAuth or bearerAuth)")
    if headers.get("Stripe-Version") not in (None, VERSION):
        found.append(f"Stripe-Version {headers.get('Stripe-Version')} is not the description's {VERSION}")
    pointer_base = f"/paths/{escape(template)}/{method.lower()}"
    # Query parameters: each named by the description, of its schema, the required ones given.
    declared = {p["name"]: (i, p) for i, p in enumerate(operation.get("parameters", []))
                if p["in"] == "query"}
    try:
        given = nest(parse_qsl(query, keep_blank_values=True))
    except ValueError as e:
        found.append(f"query: {e}")
        given = {}
    for name, value in given.items():
        if name not in declared:
            found.append(f"query parameter {name!r} is not in the description")
            continue
        i, p = declared[name]
        value = coerce(value, p["schema"])
        given[name] = value
        for msg in problems(f"{pointer_base}/parameters/{i}/schema", value):
            found.append(f"query {name}: {msg}")
    for name, (i, p) in declared.items():
        if p.get("required") and name not in given:
            found.append(f"required query parameter {name!r} missing")
    for i, p in enumerate(operation.get("parameters", [])):
        if p["in"] == "path":
            for msg in problems(f"{pointer_base}/parameters/{i}/schema", path_params.get(p["name"])):
                found.append(f"path {p['name']}: {msg}")
    # The body: form-encoded, of the operation's schema.
    params = {}
    content = operation.get("requestBody", {}).get("content", {})
    if body:
        kind = headers.get("Content-Type", "").split(";")[0].strip()
        if kind not in content:
            found.append(f"Content-Type {kind!r}; the description takes {sorted(content)}")
        else:
            try:
                params = nest(parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=True))
            except ValueError as e:
                found.append(f"body: {e}")
            schema_pointer = f"{pointer_base}/requestBody/content/{escape(kind)}/schema"
            params = coerce(params, schema_at(schema_pointer))
            for msg in problems(schema_pointer, params):
                found.append(f"body {msg}")
    elif content and operation["requestBody"].get("required"):
        found.append("the request body is required")
    params.update({k: v for k, v in given.items()})
    return found, template, dict(params, **{"__path": path_params})


# ---- answers built from Stripe's examples ----------------------------------------------------

LOCK = threading.Lock()
STORE = {}          # id -> object
IDEMPOTENT = {}     # key -> (request, status, answer)
REPORT = {"validated": 0, "violations": [], "answers_invalid": [], "requests": []}
HOLD = {"seconds": 0}
BALANCE = []        # balance transactions, oldest first
FAIL_NEXT = {"status": 0, "times": 0, "operation": None}
FAILURES = {
    429: ("rate_limit", "invalid_request_error",
          "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests."),
    500: (None, "api_error", "An unknown error occurred"),
    503: (None, "api_error", "The service is temporarily unavailable."),
}

CARDS = {
    "4242424242424242": ("visa", "credit", None),
    "4000056655665556": ("visa", "debit", None),
    "5105105105105100": ("mastercard", "prepaid", None),
    "6011111111111117": ("discover", "unknown", None),
    "4000000000000002": ("visa", "credit", "generic_decline"),
    "4000000000009995": ("visa", "credit", "insufficient_funds"),
    "4000002500003155": ("visa", "credit", "authentication_required"),
}
DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
}


def new_id(prefix):
    return f"{prefix}_{secrets.token_hex(12)}"


def fixture(kind, **fields):
    obj = copy.deepcopy(FIXTURES[kind])
    obj.update(fields)
    obj["created"] = int(time.time())
    return obj


def balance(kind, category, source, amount, fee):
    """A balance transaction for money that moved, with the fee Stripe takes."""
    obj = fixture("balance_transaction", id=new_id("txn"), type=kind, reporting_category=category,
                  source=source, amount=amount, fee=fee, net=amount - fee,
                  fee_details=[{"amount": fee, "application": None, "currency": "usd",
                                "description": "Stripe processing fees", "type": "stripe_fee"}]
                  if fee else [],
                  description=None, status="pending")
    obj["available_on"] = obj["created"] + 2 * 86_400
    obj["_seq"] = len(BALANCE)
    BALANCE.append(obj)
    STORE[obj["id"]] = obj
    return obj["id"]


def card_fee(amount):
    return (amount * 29 + 500) // 1000 + 30


def ach_fee(amount):
    return min((amount * 8 + 500) // 1000, 500)


def charge_for(intent, pm, ach):
    """The charge of an intent whose money moved, and its balance transaction."""
    charge = fixture("charge", id=new_id("py" if ach else "ch"), amount=intent["amount"],
                     amount_captured=intent["amount"], captured=True, paid=True,
                     status="succeeded", payment_intent=intent["id"], payment_method=pm["id"],
                     customer=intent["customer"], metadata=intent["metadata"])
    if ach:
        charge["payment_method_details"] = {
            "type": "us_bank_account",
            "us_bank_account": {k: pm["us_bank_account"].get(k) for k in (
                "account_holder_type", "account_type", "bank_name", "fingerprint", "last4",
                "routing_number")}}
    charge["balance_transaction"] = balance(
        "payment" if ach else "charge", "charge", charge["id"], intent["amount"],
        ach_fee(intent["amount"]) if ach else card_fee(intent["amount"]))
    STORE[charge["id"]] = charge
    intent["charges"]["data"] = [charge]
    return charge


def expanded(txn, expand):
    out = dict(txn)
    if "data.source" in expand and txn["source"] in STORE:
        out["source"] = public(STORE[txn["source"]])
    return out


def error(status, kind, message, **fields):
    return status, {"error": dict({"type": kind, "message": message}, **fields)}


def answer(method, template, params):
    """The status and body Stripe answers for this request, per its documentation."""
    p = params["__path"]
    if (method, template) == ("POST", "/v1/customers"):
        obj = fixture("customer", id=new_id("cus"), name=params.get("name"),
                      email=params.get("email"), metadata=params.get("metadata", {}))
        STORE[obj["id"]] = obj
        return 200, obj
    if (method, template) == ("POST", "/v1/setup_intents"):
        sid = new_id("seti")
        obj = fixture("setup_intent", id=sid, client_secret=f"{sid}_secret_{secrets.token_hex(12)}",
                      customer=params.get("customer"),
                      payment_method_types=params.get("payment_method_types", ["card"]),
                      usage=params.get("usage", "off_session"), metadata=params.get("metadata", {}))
        STORE[sid] = obj
        if params.get("payment_method"):
            obj["payment_method"] = params["payment_method"]
        if params.get("confirm"):
            return confirm_setup(obj, params)
        return 200, obj
    if (method, template) == ("GET", "/v1/setup_intents/{intent}"):
        obj = STORE.get(p["intent"])
        if obj is None or obj["object"] != "setup_intent":
            return error(404, "invalid_request_error", f"No such setupintent: '{p['intent']}'",
                         code="resource_missing", param="intent")
        return 200, obj
    if (method, template) == ("POST", "/v1/setup_intents/{intent}/confirm"):
        obj = STORE.get(p["intent"])
        if obj is None or obj["object"] != "setup_intent":
            return error(404, "invalid_request_error", f"No such setupintent: '{p['intent']}'",
                         code="resource_missing", param="intent")
        if params.get("client_secret") not in (None, obj["client_secret"]):
            return error(400, "invalid_request_error", "The client_secret provided does not match.")
        if params.get("payment_method"):
            obj["payment_method"] = params["payment_method"]
        return confirm_setup(obj, params)
    if (method, template) == ("POST", "/v1/payment_methods"):
        return 200, create_payment_method(params)
    if (method, template) == ("GET", "/v1/payment_methods/{payment_method}"):
        obj = STORE.get(p["payment_method"])
        if obj is None or obj["object"] != "payment_method":
            return error(404, "invalid_request_error",
                         f"No such PaymentMethod: '{p['payment_method']}'", code="resource_missing")
        return 200, public(obj)
    if (method, template) == ("POST", "/v1/payment_methods/{payment_method}"):
        obj = STORE.get(p["payment_method"])
        if obj is None or obj["object"] != "payment_method":
            return error(404, "invalid_request_error",
                         f"No such PaymentMethod: '{p['payment_method']}'", code="resource_missing")
        holder = (params.get("us_bank_account") or {}).get("account_holder_type")
        if holder and obj.get("us_bank_account"):
            obj["us_bank_account"]["account_holder_type"] = holder
        if params.get("metadata"):
            obj["metadata"] = dict(obj.get("metadata") or {}, **params["metadata"])
        return 200, public(obj)
    if (method, template) == ("POST", "/v1/payment_methods/{payment_method}/attach"):
        obj = STORE.get(p["payment_method"])
        if obj is None or obj["object"] != "payment_method":
            return error(404, "invalid_request_error",
                         f"No such PaymentMethod: '{p['payment_method']}'", code="resource_missing")
        obj["customer"] = params["customer"]
        return 200, public(obj)
    if (method, template) == ("POST", "/v1/payment_intents"):
        return create_payment_intent(params)
    if (method, template) == ("GET", "/v1/payment_intents/{intent}"):
        obj = STORE.get(p["intent"])
        if obj is None or obj["object"] != "payment_intent":
            return error(404, "invalid_request_error", f"No such payment_intent: '{p['intent']}'",
                         code="resource_missing")
        return 200, obj
    if (method, template) == ("POST", "/v1/payment_intents/{intent}/cancel"):
        # As Stripe documents it: an intent can be canceled while it requires a payment
        # method, confirmation, action or capture; one processing (a bank debit sent) cannot.
        obj = STORE.get(p["intent"])
        if obj is None or obj["object"] != "payment_intent":
            return error(404, "invalid_request_error", f"No such payment_intent: '{p['intent']}'",
                         code="resource_missing")
        if obj["status"] not in ("requires_payment_method", "requires_confirmation",
                                 "requires_action", "requires_capture", "canceled"):
            return error(400, "invalid_request_error",
                         "You cannot cancel this PaymentIntent because it has a status of "
                         f"{obj['status']}. Only a PaymentIntent with one of the following "
                         "statuses may be canceled: requires_payment_method, requires_capture, "
                         "requires_confirmation, requires_action.",
                         code="payment_intent_unexpected_state")
        if obj["status"] != "canceled":
            obj["status"] = "canceled"
            obj["canceled_at"] = int(time.time())
            obj["cancellation_reason"] = params.get("cancellation_reason")
        return 200, obj
    if (method, template) == ("GET", "/v1/payment_intents/search"):
        m = re.fullmatch(r"metadata\['([^']+)'\]:'([^']*)'", params["query"])
        if not m:
            return error(400, "invalid_request_error", "This mock searches one metadata field.")
        found = [o for o in STORE.values() if o["object"] == "payment_intent"
                 and o["metadata"].get(m.group(1)) == m.group(2)]
        return 200, {"object": "search_result", "data": found, "has_more": False,
                     "next_page": None, "url": "/v1/payment_intents/search",
                     "total_count": len(found)}
    if (method, template) == ("POST", "/v1/refunds"):
        pi = STORE.get(params.get("payment_intent"))
        if pi is None:
            return error(404, "invalid_request_error", "No such payment_intent", code="resource_missing")
        refunded = sum(r["amount"] for r in STORE.values()
                       if r["object"] == "refund" and r["payment_intent"] == pi["id"]
                       and r.get("status") not in ("failed", "canceled"))
        amount = params.get("amount", pi["amount_received"] - refunded)
        if amount + refunded > pi["amount_received"]:
            return error(400, "invalid_request_error",
                         f"Refund amount (${amount / 100:.2f}) is greater than unrefunded amount "
                         f"on charge (${(pi['amount_received'] - refunded) / 100:.2f})",
                         code="amount_too_large", param="amount")
        obj = fixture("refund", id=new_id("re"), amount=amount, payment_intent=pi["id"],
                      charge=pi["charges"]["data"][0]["id"] if pi["charges"]["data"] else None,
                      metadata=params.get("metadata", {}), reason=params.get("reason"))
        obj["balance_transaction"] = balance("refund", "refund", obj["id"], -amount, 0)
        STORE[obj["id"]] = obj
        return 200, obj
    if (method, template) == ("GET", "/v1/refunds"):
        found = [o for o in STORE.values() if o["object"] == "refund"
                 and o["payment_intent"] == params.get("payment_intent")]
        found.sort(key=lambda o: o["created"], reverse=True)
        return 200, {"object": "list", "data": found[:int(params.get("limit", 10))],
                     "has_more": len(found) > int(params.get("limit", 10)), "url": "/v1/refunds"}
    if (method, template) == ("GET", "/v1/balance_transactions"):
        created = params.get("created")
        if not isinstance(created, dict):
            created = {} if created is None else {"gte": created, "lte": created}
        found = [t for t in reversed(BALANCE)
                 if t["created"] >= created.get("gte", created.get("gt", -1) + 1)
                 and t["created"] <= created.get("lte", created.get("lt", 2 ** 62) - 1)]
        after = params.get("starting_after")
        if after:
            ids = [t["id"] for t in found]
            if after not in ids:
                return error(400, "invalid_request_error",
                             f"No such balance transaction: '{after}'", param="starting_after")
            found = found[ids.index(after) + 1:]
        limit = int(params.get("limit", 10))
        if not 1 <= limit <= 100:
            return error(400, "invalid_request_error",
                         "Invalid integer: limit must be between 1 and 100", param="limit")
        expand = params.get("expand") or []
        return 200, {"object": "list", "data": [expanded(t, expand) for t in found[:limit]],
                     "has_more": len(found) > limit, "url": "/v1/balance_transactions"}
    return error(501, "api_error", f"this mock does not answer {method} {template}")


def public(pm):
    return {k: v for k, v in pm.items() if not k.startswith("_")}


def create_payment_method(params):
    kind = params.get("type")
    obj = fixture("payment_method", id=new_id("pm"), type=kind, customer=None,
                  metadata=params.get("metadata", {}))
    obj["billing_details"] = dict(obj["billing_details"], name=(params.get("billing_details") or {}).get("name"))
    if kind == "card":
        number = (params.get("card") or {}).get("number", "")
        brand, funding, outcome = CARDS.get(number, ("visa", "credit", "generic_decline"))
        obj["card"] = dict(obj["card"], brand=brand, funding=funding, last4=number[-4:],
                           exp_month=params["card"].get("exp_month"), exp_year=params["card"].get("exp_year"),
                           networks={"available": [brand], "preferred": None})
        obj["_outcome"] = outcome
    elif kind == "us_bank_account":
        account = params.get("us_bank_account") or {}
        obj.pop("card", None)
        obj["us_bank_account"] = {
            "account_holder_type": account.get("account_holder_type"),
            "account_type": account.get("account_type", "checking"),
            "bank_name": "STRIPE TEST BANK", "fingerprint": secrets.token_hex(8),
            "last4": account.get("account_number", "")[-4:],
            "routing_number": account.get("routing_number"),
        }
        # Stripe's documented test account numbers: 000222222227 fails with R01.
        obj["_outcome"] = "R01" if account.get("account_number") == "000222222227" else None
    STORE[obj["id"]] = obj
    return public(obj)


def confirm_setup(obj, params):
    pm = STORE.get(obj.get("payment_method"))
    if pm is None:
        return error(400, "invalid_request_error", "You must provide a payment_method.",
                     param="payment_method")
    if obj.get("customer"):
        pm["customer"] = obj["customer"]
    obj["status"] = "succeeded"
    if params.get("mandate_data"):
        obj["mandate"] = new_id("mandate")
    return 200, obj


def create_payment_intent(params):
    pm = STORE.get(params.get("payment_method"))
    if pm is None:
        return error(400, "invalid_request_error",
                     f"No such PaymentMethod: '{params.get('payment_method')}'",
                     code="resource_missing", param="payment_method")
    if params.get("customer") and pm.get("customer") != params["customer"]:
        return error(400, "invalid_request_error",
                     "The provided PaymentMethod was previously used with a PaymentIntent "
                     "without Customer attachment, shared with a connected account without "
                     "Customer attachment, or was detached from a Customer.",
                     code="payment_method_unexpected_state")
    pid = new_id("pi")
    types = params.get("payment_method_types", ["card"])
    obj = fixture("payment_intent", id=pid, amount=params["amount"], currency=params["currency"],
                  customer=params.get("customer"), payment_method=pm["id"],
                  payment_method_types=types, metadata=params.get("metadata", {}),
                  description=params.get("description"), canceled_at=None,
                  client_secret=f"{pid}_secret_{secrets.token_hex(12)}",
                  status="requires_confirmation", amount_received=0)
    obj["charges"] = dict(obj["charges"], url=f"/v1/charges?payment_intent={pid}")
    STORE[pid] = obj
    if not params.get("confirm"):
        return 200, obj
    outcome = pm.get("_outcome")
    if pm["type"] == "us_bank_account":
        obj["status"] = "processing"
        obj["_ach_outcome"] = outcome
        return 200, obj
    if outcome is None:
        obj["status"] = "succeeded"
        obj["amount_received"] = obj["amount"]
        charge_for(obj, pm, ach=False)
        return 200, obj
    if outcome == "authentication_required":
        obj["status"] = "requires_action" if not params.get("off_session") else "requires_payment_method"
        failure = {"type": "card_error", "code": "authentication_required",
                   "decline_code": "authentication_required",
                   "message": "Your card was declined. This transaction requires authentication."}
    else:
        obj["status"] = "requires_payment_method"
        failure = {"type": "card_error", "code": "card_declined", "decline_code": outcome,
                   "message": DECLINE_MESSAGES[outcome]}
    obj["last_payment_error"] = failure
    return 402, {"error": dict(failure, payment_intent=obj)}


def answer_schema(template, method, status):
    responses = SPEC["paths"][template][method.lower()]["responses"]
    code = str(status) if str(status) in responses else "default"
    return f"/paths/{escape(template)}/{method.lower()}/responses/{code}/content/application~1json/schema"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", "req_" + secrets.token_hex(7))
        self.send_header("Stripe-Version", VERSION)
        # Stripe's API answers browsers (Stripe.js) from any origin.
        self.send_header("Access-Control-Allow-Origin", "*")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if url.path.startswith("/_mock/"):
            return self.control(url.path, body)
        found, template, params = check_request(self.command, url.path, url.query, self.headers, body)
        with LOCK:
            REPORT["validated"] += 1
            REPORT["requests"].append({
                "method": self.command, "path": url.path, "operation": template,
                "idempotency_key": self.headers.get("Idempotency-Key"),
                "stripe_version": self.headers.get("Stripe-Version"),
                "key": (self.headers.get("Authorization") or "")[7:14],
                "violations": found,
            })
            if found:
                REPORT["violations"].append({"request": f"{self.command} {url.path}", "found": found})
        if found:
            return self.send(400, {"error": {"type": "invalid_request_error",
                                             "message": "; ".join(found)}})
        with LOCK:
            failing = FAIL_NEXT["times"] > 0 and FAIL_NEXT.get("operation") in (None, template)
            if failing:
                FAIL_NEXT["times"] -= 1
                status = FAIL_NEXT["status"]
        if failing:
            code, kind, message = FAILURES[status]
            obj = {"error": {"type": kind, "message": message}}
            if code:
                obj["error"]["code"] = code
            wrong = problems(answer_schema(template, self.command, status), obj)
            if wrong:
                with LOCK:
                    REPORT["answers_invalid"].append({"request": f"{self.command} {url.path}", "found": wrong})
            return self.send(status, obj)
        key = self.headers.get("Idempotency-Key")
        fingerprint = json.dumps([self.command, url.path, params], sort_keys=True, default=str)
        with LOCK:
            if key and key in IDEMPOTENT:
                seen, status, sent = IDEMPOTENT[key]
                if seen != fingerprint:
                    return self.send(400, {"error": {
                        "type": "idempotency_error",
                        "message": "Keys for idempotent requests can only be used with the same "
                                   "parameters they were first used with."}})
                return self.send(status, sent, [("Idempotent-Replayed", "true")])
            status, obj = answer(self.command, template, params)
            obj = json.loads(json.dumps(obj, default=str))
            obj = strip_private(obj)
            if key and self.command == "POST":
                IDEMPOTENT[key] = (fingerprint, status, obj)
            hold = HOLD["seconds"] if template == "/v1/payment_intents" else 0
            HOLD["seconds"] = 0 if hold else HOLD["seconds"]
        wrong = problems(answer_schema(template, self.command, status), obj)
        if wrong:
            with LOCK:
                REPORT["answers_invalid"].append({"request": f"{self.command} {url.path}", "found": wrong})
        if hold:
            time.sleep(hold)
        self.send(status, obj)

    def control(self, path, body):
        if path == "/_mock/report":
            with LOCK:
                return self.send(200, REPORT)
        m = re.fullmatch(r"/_mock/validate/([a-z_.]+)", path)
        if m:
            # An answer built by a test, checked against the description's schema of it.
            if m.group(1) not in SPEC["components"]["schemas"]:
                return self.send(404, {"problems": [f"no schema {m.group(1)}"]})
            found = problems(f"/components/schemas/{m.group(1)}", json.loads(body or b"null"))
            return self.send(200, {"problems": found})
        if path == "/_mock/fail_next":
            # The next `times` API requests answer `status` with Stripe's error object.
            with LOCK:
                FAIL_NEXT.update({"operation": None, **json.loads(body or b"{}")})
            return self.send(200, FAIL_NEXT)
        if path == "/_mock/forget_keys":
            # Stripe keeps idempotency keys for 24 hours: after that, the same key is new.
            with LOCK:
                IDEMPOTENT.clear()
            return self.send(200, {})
        if path == "/_mock/hold":
            HOLD["seconds"] = json.loads(body or b"{}").get("seconds", 0)
            return self.send(200, HOLD)
        if path == "/_mock/disputes":
            asked = json.loads(body or b"{}")
            with LOCK:
                intent = STORE.get(asked.get("payment_intent"))
                if intent is None or not intent["charges"]["data"]:
                    return self.send(404, {"error": {"type": "invalid_request_error",
                                                     "message": "no charge to dispute"}})
                charge = intent["charges"]["data"][0]
                dispute = fixture("dispute", id=new_id("dp"), amount=charge["amount"],
                                  charge=charge["id"], payment_intent=intent["id"],
                                  reason=asked.get("reason", "fraudulent"),
                                  status="needs_response", is_charge_refundable=False)
                dispute["evidence_details"] = dict(dispute["evidence_details"],
                                                   due_by=dispute["created"] + 7 * 86_400)
                txn = balance("adjustment", "dispute", dispute["id"], -charge["amount"], 1500)
                dispute["balance_transactions"] = [public(STORE[txn])]
                charge["disputed"] = True
                STORE[dispute["id"]] = dispute
            return self.send(200, public(dispute))
        m = re.fullmatch(r"/_mock/disputes/([^/]+)/(won|lost)", path)
        if m and m.group(1) in STORE:
            with LOCK:
                dispute = STORE[m.group(1)]
                if dispute["status"] not in ("won", "lost"):
                    dispute["status"] = m.group(2)
                    if m.group(2) == "won":
                        txn = balance("adjustment", "dispute_reversal", dispute["id"],
                                      dispute["amount"], 0)
                        dispute["balance_transactions"].append(public(STORE[txn]))
            return self.send(200, public(dispute))
        m = re.fullmatch(r"/_mock/payment_intents/([^/]+)/(succeeded|failed)", path)
        if m and m.group(1) in STORE:
            with LOCK:
                obj = STORE[m.group(1)]
                if m.group(2) == "succeeded":
                    obj["status"] = "succeeded"
                    obj["amount_received"] = obj["amount"]
                    charge_for(obj, STORE[obj["payment_method"]], ach=True)
                else:
                    obj["status"] = "requires_payment_method"
                    obj["last_payment_error"] = {
                        "type": "invalid_request_error", "code": "insufficient_funds",
                        "message": "The customer's bank account could not be debited: R01 "
                                   "Insufficient Funds."}
            return self.send(200, strip_private(obj))
        self.send(404, {"error": {"type": "invalid_request_error", "message": "unknown mock path"}})

    do_GET = do_POST = do_DELETE = handle_any

    def do_OPTIONS(self):
        """A browser's preflight before Stripe.js's requests: allowed, not an API request."""
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "GET, POST, DELETE")
        self.send_header("Access-Control-Allow-Headers",
                         "Authorization, Content-Type, Stripe-Version, Idempotency-Key")
        self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Content-Length", "0")
        self.end_headers()


def strip_private(obj):
    if isinstance(obj, dict):
        return {k: strip_private(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [strip_private(v) for v in obj]
    return obj


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()
