"""The local OSS's own OSS4-HMAC-SHA256 verifier, written apart from function/ossgate/signer.py on purpose:
a bug shared by the signer and the verifier would let our tests pass against a server real OSS is not.
Checked against the published vectors in tests/vectors/ like the signer is.

Canonical request (https://help.aliyun.com/zh/oss/developer-reference/recommend-to-use-signature-version-4):
VERB, URI-encoded "/bucket/key", sorted canonical query, every x-oss-* / content-type / content-md5 / listed
additional header as "name:value\\n" sorted, the additional header names, and the payload hash."""

import functools
import hashlib
import hmac
from urllib.parse import quote

DEFAULT_SIGNED = ("content-type", "content-md5")


def derive_key(secret, day, region):
    steps = (day, region, "oss", "aliyun_v4_request")
    return functools.reduce(
        lambda key, msg: hmac.new(key, msg.encode(), hashlib.sha256).digest(), steps, b"aliyun_v4" + secret.encode())


def hex_mac(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def expected_post_signature(secret, day, region, policy_field):
    return hex_mac(derive_key(secret, day, region), policy_field)


def _enc(text, slash=False):
    return quote(text, safe="-_.~/" if slash else "-_.~")


def canonical_uri(bucket, key):
    if not bucket:
        return "/"
    return _enc("/%s/%s" % (bucket, key), slash=True)


def canonical_request(method, bucket, key, query_pairs, headers, additional):
    """`headers`: the request's headers as sent; `additional`: lower-case names the signer listed."""
    extra = sorted({h.lower() for h in additional if h})
    lines = sorted(_enc(n) + ("=" + _enc(v) if v else "") for n, v in query_pairs)
    signed = {}
    payload_hash = "UNSIGNED-PAYLOAD"
    for name, value in headers.items():
        n = name.lower()
        if n.startswith("x-oss-") or n in DEFAULT_SIGNED or n in extra:
            signed[n] = value.strip()
        if n == "x-oss-content-sha256":
            payload_hash = value.strip()
    return "\n".join([
        method,
        canonical_uri(bucket, key),
        "&".join(lines),
        "".join("%s:%s\n" % (n, signed[n]) for n in sorted(signed)),
        ";".join(extra),
        payload_hash,
    ])


def string_to_sign(region, stamp, canonical):
    return "OSS4-HMAC-SHA256\n%s\n%s/%s/oss/aliyun_v4_request\n%s" % (
        stamp, stamp[:8], region, hashlib.sha256(canonical.encode()).hexdigest())


def expected_signature(secret, region, method, bucket, key, query_pairs, headers, stamp, additional=()):
    """The signature of a header-signed request (`query_pairs`: the URL's decoded query) or, with the
    x-oss-signature pair removed, of a query-signed one."""
    canonical = canonical_request(method, bucket, key, query_pairs, headers, additional)
    return hex_mac(derive_key(secret, stamp[:8], region), string_to_sign(region, stamp, canonical))


def expected_query_signature(secret, region, method, bucket, key, query_pairs, headers, stamp):
    """`query_pairs`: every (name, value) of the URL except x-oss-signature, already percent-decoded."""
    additional = dict(query_pairs).get("x-oss-additional-headers", "").split(";")
    return expected_signature(secret, region, method, bucket, key, query_pairs, headers, stamp, additional)
