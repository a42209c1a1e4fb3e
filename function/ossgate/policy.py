"""PostObject policy documents: conditions in, base64 policy and signed form fields out
(https://www.alibabacloud.com/help/en/oss/developer-reference/signature-version-4-recommend).

Pure functions: the caller passes the credentials, the clock reading and every value to pin.
"""

import base64
import json
from collections import OrderedDict

from . import signer

_encode_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def format_expiration(moment):
    """The policy's `expiration`: ISO 8601 UTC with milliseconds, as OSS documents it."""
    return "%04d-%02d-%02dT%02d:%02d:%02d.000Z" % (
        moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def v4_conditions(access_key_id, security_token, date, datetime_str, region):
    """The conditions every V4 policy must carry: version, credential, date, plus the token with STS."""
    conditions = [
        {"x-oss-signature-version": signer.ALGORITHM},
        {"x-oss-credential": signer.credential(access_key_id, date, region)},
        {"x-oss-date": datetime_str},
    ]
    if security_token:
        conditions.append({"x-oss-security-token": security_token})
    return conditions


def encode_policy(expiration, conditions):
    """base64 of the compact UTF-8 JSON policy: both the `policy` field and the string to sign."""
    document = {"expiration": format_expiration(expiration), "conditions": conditions}
    raw = _encode_compact(document).encode("utf-8")
    return base64.b64encode(raw).decode("ascii")


def signed_form_fields(credentials, region, now, expiration, conditions):
    """Build the whole V4 policy around `conditions` and sign it.

    Returns an ordered mapping of the signing fields in the order a form should carry them:
    policy, x-oss-signature-version, x-oss-credential, x-oss-date, x-oss-signature[, x-oss-security-token].
    """
    date = signer.sign_date(now)
    datetime_str = signer.sign_datetime(now)
    token = credentials.security_token
    all_conditions = v4_conditions(credentials.access_key_id, token, date, datetime_str, region) + list(conditions)
    encoded = encode_policy(expiration, all_conditions)
    fields = OrderedDict()
    fields["policy"] = encoded
    fields["x-oss-signature-version"] = signer.ALGORITHM
    fields["x-oss-credential"] = signer.credential(credentials.access_key_id, date, region)
    fields["x-oss-date"] = datetime_str
    fields["x-oss-signature"] = signer.post_policy_signature(credentials.access_key_secret, date, region, encoded)
    if token:
        fields["x-oss-security-token"] = token
    return fields
