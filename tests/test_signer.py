"""Known answers from outside our code: OSS's documented PostObject V4 example, the OSS Python SDK v2 vectors, and oss2
(sources in tests/vectors/)."""

import base64
import json
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from conftest import load_vectors
from ossgate import signer

POST = load_vectors("post_policy_v4.json")
REQUEST = load_vectors("request_v4.json")


@pytest.mark.parametrize("case", POST["signing_keys"])
def test_signing_key_matches_reference(case):
    key = signer.signing_key(case["secret"], case["date"], case["region"], case["product"])
    assert key.hex() == case["key_hex"]


@pytest.mark.parametrize("case", POST["post_policies"])
def test_post_policy_signature_matches_reference(case):
    encoded = base64.b64encode(json.dumps(case["policy"], separators=(",", ":")).encode()).decode()
    assert signer.post_policy_signature(case["secret"], case["date"], case["region"], encoded) == case["signature"]


@pytest.mark.parametrize("day", ["20231216", "20260229", "20261129"])
@pytest.mark.parametrize("region", ["cn-hangzhou", "ap-southeast-1"])
def test_signing_key_equals_oss2_derivation(day, region):
    import oss2

    auth = oss2.ProviderAuthV4(oss2.credentials.StaticCredentialsProvider("ak", "some/secret+key"))
    request = SimpleNamespace(region=region, product="oss", cloudbox_id=None)
    theirs = auth._ProviderAuthV4__get_signing_key(
        request, auth.credentials_provider.get_credentials(), day + "T000000Z")
    assert signer.signing_key("some/secret+key", day, region) == theirs


def _moment(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc)


@pytest.mark.parametrize("case", REQUEST["header_mode"], ids=lambda c: c["name"])
def test_header_mode_matches_sdk_v2(case):
    common = REQUEST["common"]
    now = _moment(case["epoch"])
    headers = dict(case["headers"], **{"x-oss-date": signer.sign_datetime(now)})
    if case.get("security_token"):
        headers["x-oss-security-token"] = case["security_token"]
    canonical = signer.canonical_request(common["method"], common["bucket"], common["key"],
                                         [tuple(p) for p in common["query"]], headers, case["additional_headers"])
    scope = signer.credential_scope(signer.sign_date(now), common["region"])
    sig = signer.signature(signer.signing_key(common["access_key_secret"], signer.sign_date(now), common["region"]),
                           signer.request_string_to_sign(signer.sign_datetime(now), scope, canonical))
    extra = sorted(h.lower() for h in case["additional_headers"])
    auth = "OSS4-HMAC-SHA256 Credential=%s/%s" % (common["access_key_id"], scope)
    if extra:
        auth += ",AdditionalHeaders=" + ";".join(extra)
    assert auth + ",Signature=" + sig == case["authorization"]


@pytest.mark.parametrize("case", REQUEST["query_mode"], ids=lambda c: c["name"])
def test_query_mode_matches_sdk_v2(case):
    common = REQUEST["common"]
    now = _moment(case["epoch"])
    day = signer.sign_date(now)
    params = [tuple(p) for p in common["query"]] + [
        ("x-oss-signature-version", signer.ALGORITHM),
        ("x-oss-credential", signer.credential(common["access_key_id"], day, common["region"])),
        ("x-oss-date", signer.sign_datetime(now)),
        ("x-oss-expires", str(case["expires"])),
    ]
    if case.get("security_token"):
        params.append(("x-oss-security-token", case["security_token"]))
    if case["additional_headers"]:
        params.append(("x-oss-additional-headers", ";".join(sorted(h.lower() for h in case["additional_headers"]))))
    canonical = signer.canonical_request(common["method"], common["bucket"], common["key"], params,
                                         case["headers"], case["additional_headers"])
    to_sign = signer.request_string_to_sign(signer.sign_datetime(now), signer.credential_scope(day, common["region"]),
                                            canonical)
    assert signer.signature(signer.signing_key(common["access_key_secret"], day, common["region"]), to_sign) \
        == case["signature"]


def test_dates_are_formatted_in_utc():
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert signer.sign_date(now) == "20260102"
    assert signer.sign_datetime(now) == "20260102T030405Z"
    assert signer.credential("AK", "20260102", "cn-beijing") == "AK/20260102/cn-beijing/oss/aliyun_v4_request"


def test_uri_encoding_is_rfc3986():
    assert signer.uri_encode("a b+c~d/é") == "a%20b%2Bc~d%2F%C3%A9"
    assert signer.canonical_uri("bucket", "1234+-/123/1.txt") == "/bucket/1234%2B-/123/1.txt"
    assert signer.canonical_uri("", "") == "/"
    assert signer.canonical_uri("bucket", "") == "/bucket/"


@pytest.mark.parametrize("case", REQUEST["query_mode"], ids=lambda c: c["name"])
def test_presigned_query_matches_sdk_v2(case):
    common = REQUEST["common"]
    pairs = signer.presigned_query(
        common["access_key_id"], common["access_key_secret"], case.get("security_token"), common["region"],
        _moment(case["epoch"]), case["expires"], common["method"], common["bucket"], common["key"],
        [tuple(p) for p in common["query"]], case["headers"], case["additional_headers"])
    assert pairs[-1] == ("x-oss-signature", case["signature"])
    query = dict(pairs)
    assert query["x-oss-expires"] == str(case["expires"]) and query["x-oss-signature-version"] == "OSS4-HMAC-SHA256"
    assert query.get("x-oss-security-token") == case.get("security_token")


def test_encoded_query_is_rfc3986_with_bare_names():
    assert signer.encode_query([("uploadId", "a+b/c="), ("x", ""), ("p", "1 2")]) == "uploadId=a%2Bb%2Fc%3D&x&p=1%202"
