#!/usr/bin/python3
"""Offline check of Kubernetes manifests with Debian's python3-kubernetes
(its models are the Kubernetes 1.22 API). No cluster is needed — and none is
reached: `kubectl apply --dry-run=client` needs a server's OpenAPI, so it
cannot be used offline.

Usage: /usr/bin/python3 validate.py FILE.yaml...   (exit 1 on any problem)

Per document: apiVersion/kind known to the models; no unknown field
(recursively, through each model's attribute_map/openapi_types); primitive
types; required fields (the models' own client-side checks). Not checked:
enum values (restartPolicy), quantity formats, fields newer than 1.22."""
import json
import re
import sys

import yaml
from kubernetes import client

API = client.ApiClient()
PRIM = {"str": str, "int": int, "bool": bool, "float": (int, float)}
QUANTITY_MAPS = {"limits", "requests", "capacity", "allocatable", "hard", "used", "overhead"}


def model_name(api_version, kind):
    ver = api_version.split("/")[-1]                    # batch/v1 -> v1
    return ver[0].upper() + ver[1:] + kind              # V1Job


def walk(value, typ, path, errs):
    if value is None:
        return
    m = re.match(r"list\[(.*)\]$", typ)
    if m:
        if not isinstance(value, list):
            errs.append(f"{path}: expected list, got {type(value).__name__}")
            return
        for i, v in enumerate(value):
            walk(v, m.group(1), f"{path}[{i}]", errs)
        return
    m = re.match(r"dict\(([^,]*), (.*)\)$", typ)
    if m:
        if not isinstance(value, dict):
            errs.append(f"{path}: expected map, got {type(value).__name__}")
            return
        quantity = path.rsplit(".", 1)[-1] in QUANTITY_MAPS   # cpu: 1 is a valid Quantity
        for k, v in value.items():
            if quantity and isinstance(v, (int, float)) and not isinstance(v, bool):
                continue
            walk(v, m.group(2), f"{path}.{k}", errs)
        return
    if typ in PRIM:
        ok = isinstance(value, PRIM[typ]) and not (typ != "bool" and isinstance(value, bool))
        if not ok:
            errs.append(f"{path}: expected {typ}, got {type(value).__name__} {value!r}")
        return
    if typ in ("object", "datetime", "date"):
        return                                           # IntOrString, Quantity, times
    cls = getattr(client.models, typ, None)
    if cls is None:
        return
    if not isinstance(value, dict):
        errs.append(f"{path}: expected object {typ}, got {type(value).__name__}")
        return
    json_to_attr = {v: k for k, v in cls.attribute_map.items()}
    for k, v in value.items():
        if k not in json_to_attr:
            errs.append(f"{path}: unknown field {k!r} in {typ}")
        else:
            walk(v, cls.openapi_types[json_to_attr[k]], f"{path}.{k}", errs)


class _Resp:                                             # what ApiClient.deserialize expects
    def __init__(self, obj):
        self.data = json.dumps(obj)


def check(doc):
    errs = []
    name = model_name(doc.get("apiVersion", ""), doc.get("kind", ""))
    if not hasattr(client.models, name):
        return [f"unknown apiVersion/kind {doc.get('apiVersion')}/{doc.get('kind')} ({name})"]
    walk(doc, name, doc.get("kind"), errs)
    try:
        API.deserialize(_Resp(doc), name)                # required fields
    except (ValueError, TypeError) as e:
        errs.append(f"model: {e}")
    return errs


def main(files):
    bad = 0
    for f in files:
        before = bad
        with open(f) as fh:
            for i, doc in enumerate(yaml.safe_load_all(fh)):
                if not doc:
                    continue
                for e in check(doc):
                    bad += 1
                    print(f"{f}[{i}]: {e}")
        if bad == before:
            print(f"{f}: ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
