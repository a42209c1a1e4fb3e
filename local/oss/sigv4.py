"""Who sent a request: V4 header signature, V4 query signature (presigned URL), or nobody (anonymous).

Rules from the OSS V4 documentation
(https://help.aliyun.com/zh/oss/developer-reference/recommend-to-use-signature-version-4)
and the official SDKs' signers: the signing time is x-oss-date; the credential scope's day is its date; a
request more than 15 minutes off the server's clock is RequestTimeTooSkewed; a presigned URL lives
x-oss-expires (1..604800) seconds; a configured STS token must be carried and signed."""

import hmac
import re
from datetime import datetime, timedelta, timezone

from .. import v4
from .errors import OssError

MAX_SKEW = timedelta(minutes=15)
MAX_V4_AGE = timedelta(days=7)
_DATE_RE = re.compile(r"^\d{8}T\d{6}Z$")
_HEX64_RE = re.compile(r"^[0-9a-f]{64}$")
SIGNATURE_MISMATCH = "The request signature we calculated does not match the signature you provided. " \
                     "Check your key and signing method."


class Identity:
    def __init__(self, access_key_id, access_key_secret, security_token=None):
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.security_token = security_token or None

    @classmethod
    def from_environ(cls, env):
        try:
            return cls(env["LOCAL_OSS_ACCESS_KEY_ID"], env["LOCAL_OSS_ACCESS_KEY_SECRET"],
                       env.get("LOCAL_OSS_SECURITY_TOKEN"))
        except KeyError as missing:
            raise SystemExit("local.oss: set %s" % missing)


def parse_stamp(value):
    if not _DATE_RE.fullmatch(value or ""):
        raise OssError("InvalidArgument", "x-oss-date must look like 20231203T121212Z.")
    try:
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise OssError("InvalidArgument", "x-oss-date is not a valid date.")


def check_credential(fields, identity, region, now):
    """x-oss-credential, x-oss-date and the security token; returns the credential's day."""
    parts = fields["x-oss-credential"].split("/")
    if len(parts) != 5 or parts[3:] != ["oss", "aliyun_v4_request"]:
        raise OssError("InvalidArgument",
                       "x-oss-credential must be <AccessKeyId>/<date>/<region>/oss/aliyun_v4_request.")
    key_id, day, cred_region = parts[:3]
    if key_id != identity.access_key_id:
        raise OssError("InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.",
                       OSSAccessKeyId=key_id)
    if cred_region != region:
        raise OssError("InvalidArgument", "Invalid signing region in x-oss-credential: %s, expected %s."
                       % (cred_region, region))
    stamp = parse_stamp(fields["x-oss-date"])
    if day != fields["x-oss-date"][:8]:
        raise OssError("InvalidArgument", "The date in x-oss-credential does not match x-oss-date.")
    if stamp - now > MAX_SKEW:
        raise skewed(stamp, now)
    if now - stamp > MAX_V4_AGE:
        raise OssError("AccessDenied", "Request has expired.")
    token = fields.get("x-oss-security-token")
    if identity.security_token and not hmac.compare_digest(token or "", identity.security_token):
        raise OssError("InvalidSecurityToken", "The security token you provided is invalid.")
    if token and not identity.security_token:
        raise OssError("InvalidSecurityToken", "The security token you provided is invalid.")
    return day


def skewed(stamp, now):
    return OssError("RequestTimeTooSkewed",
                    "The difference between the request time and the current time is too large.",
                    RequestTime=stamp.strftime("%Y%m%dT%H%M%SZ"), ServerTime=now.strftime("%Y-%m-%dT%H:%M:%S.000Z"))


def parse_authorization(value):
    """`OSS4-HMAC-SHA256 Credential=..,AdditionalHeaders=..,Signature=..` (with or without a space after
    each comma, any order) → dict of the three parts."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme != "OSS4-HMAC-SHA256":
        if scheme == "OSS":
            raise OssError("InvalidArgument", "This local OSS verifies only V4 (OSS4-HMAC-SHA256) signatures.")
        raise OssError("InvalidArgument", "Authorization header is invalid.")
    parts = {}
    for item in rest.split(","):
        name, eq, val = item.strip().partition("=")
        if not eq or name not in ("Credential", "AdditionalHeaders", "Signature") or name in parts:
            raise OssError("InvalidArgument", "Authorization header is invalid.")
        parts[name] = val.strip()
    if not parts.get("Credential") or not parts.get("Signature"):
        raise OssError("InvalidArgument", "Authorization header is invalid: Credential and Signature are required.")
    return parts


def authenticate(method, bucket, key, query_pairs, headers, identity, region, now):
    """True for a correctly signed request, False for an anonymous one; OssError for a wrong signature.
    `headers`: name → value as received; `query_pairs`: the decoded query in order."""
    query = dict(query_pairs)
    authorization = headers.get("Authorization")
    presigned = "x-oss-signature" in query or "x-oss-signature-version" in query
    if authorization and presigned:
        raise OssError("InvalidArgument", "Only one authentication method is allowed: header or query.")
    if authorization:
        _check_header_signature(method, bucket, key, query_pairs, headers, identity, region, now, authorization)
        return True
    if presigned:
        _check_query_signature(method, bucket, key, query_pairs, headers, identity, region, now)
        return True
    return False


def _check_payload_hash(headers, required):
    """x-oss-content-sha256 may only be UNSIGNED-PAYLOAD (https://help.aliyun.com/zh/oss/support/0002-00000214);
    a header-signed request must carry it (the V4 document lists it among the required headers)."""
    value = headers.get("x-oss-content-sha256")
    if value is None and required:
        raise OssError("InvalidArgument", "A V4 header-signed request must carry x-oss-content-sha256: "
                                          "UNSIGNED-PAYLOAD.", ec="0002-00000214")
    if value is not None and value != "UNSIGNED-PAYLOAD":
        raise OssError("InvalidArgument", "x-oss-content-sha256 must be UNSIGNED-PAYLOAD.", ec="0002-00000214")


def _check_header_signature(method, bucket, key, query_pairs, headers, identity, region, now, authorization):
    parts = parse_authorization(authorization)
    stamp = headers.get("x-oss-date")
    if not stamp:
        raise OssError("AccessDenied", "A V4 header-signed request must carry x-oss-date.")
    fields = {"x-oss-credential": parts["Credential"], "x-oss-date": stamp}
    if headers.get("x-oss-security-token") is not None:
        fields["x-oss-security-token"] = headers["x-oss-security-token"]
    check_credential(fields, identity, region, now)
    moment = parse_stamp(stamp)
    if abs(now - moment) > MAX_SKEW:
        raise skewed(moment, now)
    _check_payload_hash(headers, required=True)
    additional = [h.lower() for h in parts.get("AdditionalHeaders", "").split(";") if h]
    for name in additional:
        if name not in {h.lower() for h in headers.keys()}:
            raise OssError("AccessDenied", "The additional signed header %s is not in the request." % name)
    expected = v4.expected_signature(identity.access_key_secret, region, method, bucket, key, query_pairs,
                                     headers, stamp, additional)
    if not hmac.compare_digest(expected, parts["Signature"]):
        raise _mismatch(identity, region, stamp, parts["Signature"],
                        v4.canonical_request(method, bucket, key, query_pairs, headers, additional))


def _check_query_signature(method, bucket, key, query_pairs, headers, identity, region, now):
    query = dict(query_pairs)
    if query.get("x-oss-signature-version") != "OSS4-HMAC-SHA256" or not query.get("x-oss-signature"):
        raise OssError("InvalidArgument", "A presigned URL needs x-oss-signature-version=OSS4-HMAC-SHA256 "
                                          "and x-oss-signature.")
    fields = {"x-oss-credential": query.get("x-oss-credential", ""), "x-oss-date": query.get("x-oss-date", "")}
    if "x-oss-security-token" in query:
        fields["x-oss-security-token"] = query["x-oss-security-token"]
    check_credential(fields, identity, region, now)
    expires = query.get("x-oss-expires", "")
    if not expires.isdigit() or not 1 <= int(expires) <= 604800:
        raise OssError("InvalidArgument", "x-oss-expires must be 1 to 604800 seconds.")
    if now > parse_stamp(query["x-oss-date"]) + timedelta(seconds=int(expires)):
        raise OssError("AccessDenied", "Request has expired.")
    _check_payload_hash(headers, required=False)
    signed_pairs = [(n, v) for n, v in query_pairs if n != "x-oss-signature"]
    expected = v4.expected_query_signature(identity.access_key_secret, region, method, bucket, key,
                                           signed_pairs, dict(headers.items()), query["x-oss-date"])
    if not hmac.compare_digest(expected, query["x-oss-signature"]):
        additional = query.get("x-oss-additional-headers", "").split(";")
        raise _mismatch(identity, region, query["x-oss-date"], query["x-oss-signature"],
                        v4.canonical_request(method, bucket, key, signed_pairs, dict(headers.items()), additional))


def _mismatch(identity, region, stamp, provided, canonical):
    """SignatureDoesNotMatch with what OSS adds for V4 (EC 0002-00000201): the string it signed and the
    canonical request, so a client can see where it differs. Neither holds a secret."""
    return OssError("SignatureDoesNotMatch", SIGNATURE_MISMATCH, ec="0002-00000201",
                    OSSAccessKeyId=identity.access_key_id, SignatureProvided=provided,
                    StringToSign=v4.string_to_sign(region, stamp, canonical), CanonicalRequest=canonical)
