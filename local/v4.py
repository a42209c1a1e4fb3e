"""The local OSS's own OSS4-HMAC-SHA256 verifier, written apart from function/ossgate/signer.py on purpose:
a bug shared by the signer and the verifier would let our tests pass against a server real OSS is not.
Checked against the published vectors in tests/vectors/ like the signer is."""

import functools
import hashlib
import hmac
from urllib.parse import quote


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


def expected_query_signature(secret, region, method, bucket, key, query_pairs, headers, stamp):
    """`query_pairs`: every (name, value) of the URL except x-oss-signature, already percent-decoded."""
    additional = dict(query_pairs).get("x-oss-additional-headers", "")
    extra = sorted(h for h in additional.split(";") if h)
    lines = sorted(_enc(n) + ("=" + _enc(v) if v else "") for n, v in query_pairs)
    signed_headers = {}
    for name, value in headers.items():
        n = name.lower()
        if n.startswith("x-oss-") or n in ("content-type", "content-md5") or n in extra:
            signed_headers[n] = value.strip()
    canonical = "\n".join([
        method,
        _enc("/%s/%s" % (bucket, key), slash=True),
        "&".join(lines),
        "".join("%s:%s\n" % (n, signed_headers[n]) for n in sorted(signed_headers)),
        ";".join(extra),
        "UNSIGNED-PAYLOAD",
    ])
    day = stamp[:8]
    to_sign = "OSS4-HMAC-SHA256\n%s\n%s/%s/oss/aliyun_v4_request\n%s" % (
        stamp, day, region, hashlib.sha256(canonical.encode()).hexdigest())
    return hex_mac(derive_key(secret, day, region), to_sign)
