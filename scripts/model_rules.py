#!/usr/bin/env python3
"""Generates crates/cairn-api/src/model_rules.json, the request constraints the edge checks
before an operation runs (cairn_api::model_check), from botocore's service models.

Source: botocore's data/<service>/<version>/service-2.json(.gz), the models the AWS SDKs
are generated from. For each operation of the JSON and Query services Cairn serves it keeps
the top-level input members that carry a rule: required, enum values, string length,
integer range, list length and list item rules, and the member's type (for JSON type
checks); the names of all of each service's operations; and S3's routes (method, path
kind and subresource markers of each operation). Run it again when botocore is upgraded:

    python3 scripts/model_rules.py /path/to/botocore/data > crates/cairn-api/src/model_rules.json
"""

import glob
import gzip
import json
import os
import sys

SERVICES = ["cloudtrail", "iam", "sts", "kms", "logs", "cloudwatch", "sns", "cloudformation"]
# The JSON services whose records keep only modeled members at every depth
# (cairn_api::model_shapes): their input shapes' nested member names are kept too.
RECORDED_SHAPES = ["cloudtrail", "kms", "logs"]
# The Query services, whose parameter names are walked against their input shapes
# (cairn_api::query_shapes): a name no shape has is ignored, as AWS ignores it.
QUERY_SERVICES = ["iam", "sts", "sns", "cloudformation", "cloudwatch"]
# Recursive shapes are cut here (everything deeper is kept as sent).
MAX_DEPTH = 8
SCALAR = {"string", "integer", "long", "boolean"}


def load(data, service):
    version = sorted(os.listdir(os.path.join(data, service)))[-1]
    base = os.path.join(data, service, version, "service-2.json")
    if os.path.exists(base):
        return json.load(open(base)), version
    return json.load(gzip.open(base + ".gz")), version


def rule(shapes, name, nested=False):
    shape = shapes[name]
    t = shape["type"]
    r = {"t": t}
    if shape.get("sensitive"):
        # A value the model marks sensitive (KMS's KeyStorePassword, IAM's passwords) is
        # never quoted in a validation message, which the record keeps as errorMessage.
        r["x"] = 1
    if "enum" in shape:
        r["enum"] = shape["enum"]
    for k in ("min", "max"):
        if k in shape and t in ("string", "integer", "long", "list"):
            r[k] = shape[k]
    if t == "list":
        item = rule(shapes, shape["member"]["shape"], nested=True)
        if len(item) > 1 or item["t"] in SCALAR:
            r["item"] = item
    if t == "structure" and nested:
        # One level into a list's structures (SimulatePrincipalPolicy's ContextEntries):
        # the members with an enum. Their lengths (tag keys, …) stay with the operations,
        # which answer them with the service's own codes (SNS's InvalidParameter).
        members = {}
        for m, ref in shape.get("members", {}).items():
            sub = rule(shapes, ref["shape"], nested=False)
            if sub["t"] == "string" and "enum" in sub:
                members[m] = {"t": "string", "enum": sub["enum"]}
        if members:
            r["members"] = members
    return r


def skeleton(shapes, name, depth=0):
    """The member names a value of shape `name` may carry, at every depth: {"s": {member:
    skeleton}} for a structure, {"l": skeleton} for a list's items, {"m": skeleton} for a
    map's values, 0 for anything kept whole (scalars, documents, lists of scalars)."""
    shape = shapes[name]
    t = shape["type"]
    if depth > MAX_DEPTH or shape.get("document"):
        return 0
    if t == "structure":
        return {"s": {m: skeleton(shapes, ref["shape"], depth + 1)
                      for m, ref in shape.get("members", {}).items()}}
    if t in ("list", "map"):
        inner = skeleton(shapes, shape["member" if t == "list" else "value"]["shape"], depth + 1)
        return {t[0]: inner} if inner != 0 else 0
    return 0


def query_skeleton(shapes, name, depth=0):
    """A shape as the Query protocol names its parts: {"s": {member: skeleton}} for a
    structure, {"l": skeleton} for a list (`Name.member.N`), {"m": skeleton, "k": key name,
    "v": value name} for a map (`Name.entry.N.key` / `.value`), 0 for a scalar and 1 for a
    shape cut for depth (any name below it is kept). None of the Query services' input
    shapes is flattened or renames a structure member (botocore 1.44.8); SNS's
    MessageAttributeMap names its key and value `Name` and `Value`."""
    shape = shapes[name]
    t = shape["type"]
    if depth > MAX_DEPTH:
        return 1
    if t == "structure":
        return {"s": {m: query_skeleton(shapes, ref["shape"], depth + 1)
                      for m, ref in shape.get("members", {}).items()}}
    if t == "list":
        return {"l": query_skeleton(shapes, shape["member"]["shape"], depth + 1)}
    if t == "map":
        return {"m": query_skeleton(shapes, shape["value"]["shape"], depth + 1),
                "k": shape["key"].get("locationName", "key"),
                "v": shape["value"].get("locationName", "value")}
    return 0


def per_member(model, skeleton_of):
    """operation -> top-level member -> `skeleton_of` its shape, for every operation with
    input, leaving out members whose skeleton is 0 (scalars) and operations without any."""
    shapes = model["shapes"]
    nested = {}
    for op_name, op in sorted(model["operations"].items()):
        if "input" not in op:
            continue
        members = shapes[op["input"]["shape"]].get("members", {})
        kept = {m: skeleton_of(shapes, ref["shape"], 1) for m, ref in members.items()}
        kept = {m: k for m, k in kept.items() if k != 0}
        if kept:
            nested[op_name] = kept
    return nested


def s3_routes(data):
    """S3's operations as [name, method, path kind, subresource markers]: the request URI's
    literal query keys (`?acl`, `?renameObject`), leaving out keyed values such as
    `list-type=2` and `x-id=…`. The edge uses them to tell an operation s3s does not know
    from the served one it would otherwise be routed to (cairn_api::s3::unserved)."""
    model, _ = load(data, "s3")
    routes = []
    for name, op in sorted(model["operations"].items()):
        method, uri = op["http"]["method"], op["http"]["requestUri"]
        path, _, query = uri.partition("?")
        kind = "object" if "{Key+}" in path else ("bucket" if "{Bucket}" in path else "root")
        markers = sorted(k for k in query.split("&") if k and "=" not in k)
        routes.append([name, method, kind, markers])
    return routes


def main():
    data = sys.argv[1]
    out = {"source": {}, "services": {}, "operations": {}}
    # The botocore release the data dir belongs to (the newest at generation: clients send
    # what their models have, so the checks follow the newest model, not the pinned test client's).
    init = os.path.join(data, os.pardir, "__init__.py")
    if os.path.exists(init):
        for line in open(init):
            if line.startswith("__version__"):
                out["botocore"] = line.split("=")[1].strip().strip("'\"")
    for service in SERVICES:
        model, version = load(data, service)
        out["source"][service] = f"botocore data/{service}/{version}/service-2.json"
        shapes = model["shapes"]
        ops = {}
        for op_name, op in sorted(model["operations"].items()):
            if "input" not in op:
                continue
            inp = shapes[op["input"]["shape"]]
            members = {}
            for m, ref in inp.get("members", {}).items():
                r = rule(shapes, ref["shape"])
                if service == "cloudwatch":
                    # CloudWatch answers a nested bad value (PutMetricData's
                    # MetricData.member.N.Unit) with InvalidParameterValue, which the
                    # operation words itself; only top-level members are ValidationError.
                    # Likewise a list's bad enum value (GetMetricStatistics' Statistics:
                    # "The parameter Statistics.member.2 must be a value in the set …").
                    r.get("item", {}).pop("members", None)
                    r.get("item", {}).pop("enum", None)
                    if r.get("item") == {"t": "string"}:
                        r.pop("item")
                # Every member but blobs is kept: the edge records only the members kept
                # here (time ranges included) and checks each one's JSON type. Blobs
                # (KMS's Plaintext, CiphertextBlob, a Sign Message) are never recorded, as
                # on AWS; the operations decode and check them.
                if r["t"] != "blob":
                    members[m] = r
            entry = {"required": inp.get("required", []), "members": members}
            if entry["required"] or members:
                ops[op_name] = entry
        out["services"][service] = ops
        if service in RECORDED_SHAPES:
            out.setdefault("shapes", {})[service] = per_member(model, skeleton)
        if service in QUERY_SERVICES:
            out.setdefault("query_shapes", {})[service] = per_member(model, query_skeleton)
        # Every operation of the service, served or not: an operation Cairn does not carry
        # out is still authorized and recorded (cairn_api::unserved).
        out["operations"][service] = sorted(model["operations"])
    out["s3_routes"] = s3_routes(data)
    json.dump(out, sys.stdout, separators=(",", ":"), sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
