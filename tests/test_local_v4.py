"""The local OSS verifies with its own code (local/v4.py); it must meet the same outside vectors."""

import base64
import json
from datetime import datetime, timezone

import pytest

from conftest import load_vectors
from local import v4

POST = load_vectors("post_policy_v4.json")
REQUEST = load_vectors("request_v4.json")


@pytest.mark.parametrize("case", POST["signing_keys"])
def test_key_derivation(case):
    assert v4.derive_key(case["secret"], case["date"], case["region"]).hex() == case["key_hex"]


@pytest.mark.parametrize("case", POST["post_policies"])
def test_post_signature(case):
    encoded = base64.b64encode(json.dumps(case["policy"], separators=(",", ":")).encode()).decode()
    assert v4.expected_post_signature(case["secret"], case["date"], case["region"], encoded) == case["signature"]


@pytest.mark.parametrize("case", REQUEST["query_mode"], ids=lambda c: c["name"])
def test_query_signature(case):
    common = REQUEST["common"]
    stamp = datetime.fromtimestamp(case["epoch"], timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    pairs = [tuple(p) for p in common["query"]] + [
        ("x-oss-signature-version", "OSS4-HMAC-SHA256"),
        ("x-oss-credential", "%s/%s/%s/oss/aliyun_v4_request" % (common["access_key_id"], stamp[:8], common["region"])),
        ("x-oss-date", stamp), ("x-oss-expires", str(case["expires"]))]
    if case.get("security_token"):
        pairs.append(("x-oss-security-token", case["security_token"]))
    if case["additional_headers"]:
        pairs.append(("x-oss-additional-headers", ";".join(sorted(h.lower() for h in case["additional_headers"]))))
    got = v4.expected_query_signature(common["access_key_secret"], common["region"], common["method"],
                                      common["bucket"], common["key"], pairs, case["headers"], stamp)
    assert got == case["signature"]


@pytest.mark.parametrize("case", REQUEST["header_mode"], ids=lambda c: c["name"])
def test_header_signature(case):
    common = REQUEST["common"]
    stamp = datetime.fromtimestamp(case["epoch"], timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    headers = dict(case["headers"], **{"x-oss-date": stamp})
    if case.get("security_token"):
        headers["x-oss-security-token"] = case["security_token"]
    got = v4.expected_signature(common["access_key_secret"], common["region"], common["method"], common["bucket"],
                                common["key"], [tuple(p) for p in common["query"]], headers, stamp,
                                [h.lower() for h in case["additional_headers"]])
    assert case["authorization"].endswith("Signature=" + got)
