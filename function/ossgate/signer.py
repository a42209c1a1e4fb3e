"""OSS Signature Version 4 (OSS4-HMAC-SHA256): pure functions, one per spec step, clock passed in.

Spec: OSS V4 signatures for PostObject (https://www.alibabacloud.com/help/en/oss/developer-reference/signature-version-4-recommend)
and for headers and URLs (https://www.alibabacloud.com/help/en/oss/developer-reference/recommend-to-use-signature-version-4).
Nothing here reads a clock, the environment or the network.
"""

import functools
import hashlib
import hmac

ALGORITHM = "OSS4-HMAC-SHA256"
PRODUCT = "oss"
TERMINATOR = "aliyun_v4_request"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"


def _hmac(key, message):
    return hmac.digest(key, message.encode("utf-8"), "sha256")


def sign_date(now):
    """`YYYYMMDD` of an aware UTC datetime: the credential's date."""
    return "%04d%02d%02d" % (now.year, now.month, now.day)


def sign_datetime(now):
    """`YYYYMMDDTHHMMSSZ` of an aware UTC datetime: `x-oss-date`."""
    return "%04d%02d%02dT%02d%02d%02dZ" % (now.year, now.month, now.day, now.hour, now.minute, now.second)


def credential_scope(date, region):
    return "%s/%s/%s/%s" % (date, region, PRODUCT, TERMINATOR)


def credential(access_key_id, date, region):
    """The `x-oss-credential` value: `<AccessKeyId>/<YYYYMMDD>/<region>/oss/aliyun_v4_request`."""
    return "%s/%s" % (access_key_id, credential_scope(date, region))


@functools.lru_cache(maxsize=16)
def signing_key(access_key_secret, date, region, product=PRODUCT):
    """k4 = HMAC chain over date, region, product and the terminator, keyed by "aliyun_v4" + secret.

    Pure, so cached: it changes once a day per credential (the SDKs cache it the same way)."""
    k_date = _hmac(("aliyun_v4" + access_key_secret).encode("utf-8"), date)
    k_region = _hmac(k_date, region)
    k_product = _hmac(k_region, product)
    return _hmac(k_product, TERMINATOR)


def signature(key, string_to_sign):
    """Lowercase hex HMAC-SHA256 of the string to sign under the signing key."""
    return hmac.digest(key, string_to_sign.encode("utf-8"), "sha256").hex()


def post_policy_signature(access_key_secret, date, region, encoded_policy):
    """PostObject: the string to sign is the base64 policy itself, exactly as sent in the `policy` field."""
    return signature(signing_key(access_key_secret, date, region), encoded_policy)


# --- §2: header and query (presigned URL) signing -------------------------------------------------


@functools.lru_cache(maxsize=1024)
def uri_encode(value, keep_slash=False):
    """RFC 3986 percent-encoding: unreserved characters stay, everything else is %XX (uppercase).

    Cached: a batch of presigned URLs encodes the same credential, date, token and key over and over."""
    from urllib.parse import quote  # header/query signing is off the ticket path

    return quote(value, safe="-_.~" + ("/" if keep_slash else ""))


def canonical_uri(bucket, key):
    if not bucket:
        return "/"
    return uri_encode("/%s/%s" % (bucket, key or ""), keep_slash=True)


def canonical_query(params):
    """`params`: (name, value) pairs, value None or "" for a bare name. Sorted by encoded name."""
    encoded = sorted((uri_encode(name), uri_encode(value) if value else "") for name, value in params)
    return "&".join("%s=%s" % (name, value) if value else name for name, value in encoded)


def canonical_headers(headers, additional_headers=()):
    """Lowercased `name:value\\n` for x-oss-*, content-type, content-md5 and the additional headers."""
    wanted = set(h.lower() for h in additional_headers)
    picked = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower.startswith("x-oss-") or lower in ("content-type", "content-md5") or lower in wanted:
            picked[lower] = value.strip()
    return "".join("%s:%s\n" % (name, picked[name]) for name in sorted(picked))


def canonical_request(method, bucket, key, params, headers, additional_headers=(), payload_hash=UNSIGNED_PAYLOAD):
    return "\n".join([
        method.upper(),
        canonical_uri(bucket, key),
        canonical_query(params),
        canonical_headers(headers, additional_headers),
        ";".join(sorted(h.lower() for h in additional_headers)),
        payload_hash,
    ])


def request_string_to_sign(datetime_str, scope, canonical):
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return "\n".join([ALGORITHM, datetime_str, scope, digest])


def presigned_query(access_key_id, access_key_secret, security_token, region, now, expires, method, bucket, key,
                    params=(), headers=None, additional_headers=()):
    """Query-mode V4 (a presigned URL): the (name, value) pairs of the URL's query, `x-oss-signature` last.

    `params`: the request's own query (e.g. partNumber, uploadId); `headers`: those the sender must send as
    signed (content-type is always signed); `expires`: seconds after `now`, 1..604800."""
    date = sign_date(now)
    stamp = sign_datetime(now)
    pairs = list(params)
    pairs += [("x-oss-signature-version", ALGORITHM), ("x-oss-credential", credential(access_key_id, date, region)),
              ("x-oss-date", stamp), ("x-oss-expires", str(expires))]
    if security_token:
        pairs.append(("x-oss-security-token", security_token))
    if additional_headers:
        pairs.append(("x-oss-additional-headers", ";".join(sorted(h.lower() for h in additional_headers))))
    canonical = canonical_request(method, bucket, key, pairs, headers or {}, additional_headers)
    string_to_sign = request_string_to_sign(stamp, credential_scope(date, region), canonical)
    pairs.append(("x-oss-signature", signature(signing_key(access_key_secret, date, region), string_to_sign)))
    return pairs


def encode_query(pairs):
    """A URL query from (name, value) pairs, RFC 3986-encoded; a bare name for an empty value."""
    return "&".join(uri_encode(name) + ("=" + uri_encode(value) if value else "") for name, value in pairs)
