"""PostObject: a browser / mini-program form upload, checked as OSS checks it (V4 form signature, every
policy condition, expiry, clock skew, field order, one file) and applied as OSS applies it (Content-Type,
Content-Disposition, Content-Encoding, Cache-Control, Expires, x-oss-meta-*, x-oss-object-acl,
x-oss-storage-class, x-oss-forbid-overwrite, x-oss-tagging, callback, success_action_redirect / _status).
https://help.aliyun.com/zh/oss/developer-reference/postobject"""

import base64
import binascii
import hashlib
import hmac
import json
import mmap
import os
from datetime import datetime, timezone
from urllib.parse import urlencode, urlsplit

from .. import formdata, v4
from . import callbacks
from .crc64 import Crc64
from .errors import OssError
from .settings import MAX_OBJECT_SIZE, check_key, object_settings, parse_forbid_overwrite
from .sigv4 import MAX_SKEW, SIGNATURE_MISMATCH, check_credential, parse_stamp, skewed
from .wire import Answer, element

REQUIRED_V4_FIELDS = ("x-oss-signature-version", "x-oss-credential", "x-oss-date")


def _policy_failed(condition):
    return OssError("AccessDenied", "Invalid according to Policy: Policy Condition failed: %s"
                    % json.dumps(condition, ensure_ascii=False).replace('","', '", "'))


def form_fields(parts):
    """Split parts into (fields before the file, lowercased; the file part), checking OSS's field rules."""
    files = [p for p in parts if p.name.lower() == "file"]
    if len(files) != 1:
        raise OssError("IncorrectNumberOfFilesInPOSTRequest", "POST requires exactly one file upload per request.")
    fields = {}
    seen_file = False
    for part in parts:
        name = part.name.lower()
        if name == "file":
            seen_file = True
            continue
        if seen_file:
            if name == "key" and "key" not in fields:
                raise OssError("InvalidArgument", "The key field must come before the file field.")
            continue  # OSS ignores fields after the file
        if name in fields:
            raise OssError("InvalidArgument", "The form field %s appears more than once." % part.name)
        try:
            fields[name] = part.data.decode("utf-8")
        except UnicodeDecodeError:
            raise OssError("InvalidArgument", "The form field %s is not UTF-8." % part.name)
    if "key" not in fields:
        raise OssError("InvalidArgument", "Bucket POST must contain a field named 'key'.")
    return fields, files[0]


def decode_policy(encoded):
    try:
        document = json.loads(base64.b64decode(encoded, validate=True).decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise OssError("InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
    if not isinstance(document, dict) or not isinstance(document.get("conditions"), list):
        raise OssError("InvalidPolicyDocument", "Invalid Policy: the policy needs expiration and conditions.")
    expiration = document.get("expiration")
    for fmt in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return document, datetime.strptime(str(expiration), fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    raise OssError("InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value: %r." % (expiration,))


def _field_value(name, fields, bucket):
    if not isinstance(name, str) or not name.startswith("$"):
        raise OssError("InvalidPolicyDocument", "Invalid Policy: a condition must name a $field.")
    name = name[1:].lower()
    return bucket if name == "bucket" else fields.get(name)


def check_condition(condition, fields, bucket, size):
    if isinstance(condition, dict):
        if len(condition) != 1:
            raise OssError("InvalidPolicyDocument",
                           "Invalid Policy: a simple condition must have exactly one property.")
        (name, expected), = condition.items()
        if _field_value("$" + name, fields, bucket) != expected:
            raise _policy_failed(["eq", "$" + name, expected])
        return
    if not isinstance(condition, list) or not condition or not isinstance(condition[0], str):
        raise OssError("InvalidPolicyDocument", "Invalid Policy: unknown condition %s." % json.dumps(condition))
    operator = condition[0].lower()
    if operator == "content-length-range":
        if len(condition) != 3 or not all(isinstance(v, int) and not isinstance(v, bool) for v in condition[1:]):
            raise OssError("InvalidPolicyDocument", "Invalid Policy: content-length-range needs two integers.")
        if size < condition[1]:
            raise OssError("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size.")
        if size > condition[2]:
            raise OssError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
        return
    if operator not in ("eq", "starts-with", "in", "not-in") or len(condition) != 3:
        raise OssError("InvalidPolicyDocument", "Invalid Policy: unknown condition %s." % json.dumps(condition))
    actual = _field_value(condition[1], fields, bucket)
    expected = condition[2]
    if operator in ("in", "not-in"):
        if not isinstance(expected, list):
            raise OssError("InvalidPolicyDocument", "Invalid Policy: %s needs a list." % operator)
        ok = (actual in expected) == (operator == "in") if actual is not None else operator == "not-in"
    elif not isinstance(expected, str):
        raise OssError("InvalidPolicyDocument", "Invalid Policy: %s needs a string." % operator)
    elif operator == "eq":
        ok = actual == expected
    else:
        ok = actual is not None and actual.startswith(expected)
    if not ok:
        raise _policy_failed(condition)


def check_policy(document, expiration, fields, identity, bucket, size, now):
    if now >= expiration:
        raise OssError("AccessDenied", "Invalid according to Policy: Policy expired.")
    pinned = {name for c in document["conditions"] if isinstance(c, dict) for name in c}
    pinned |= {c[1][1:].lower() for c in document["conditions"]
               if isinstance(c, list) and len(c) == 3 and str(c[0]).lower() == "eq" and isinstance(c[1], str)}
    required = REQUIRED_V4_FIELDS + (("x-oss-security-token",) if identity.security_token else ())
    for name in required:
        if name not in pinned:
            raise OssError("AccessDenied", "Invalid according to Policy: the policy must contain %s." % name)
    for condition in document["conditions"]:
        check_condition(condition, fields, bucket, size)


def post_object(parts, identity, bucket, region, now, anonymous_writes=False):
    """Validate a PostObject form completely; returns (fields, file part). Raises OssError.
    `anonymous_writes`: the bucket is public-read-write, so a form without a signature is accepted."""
    fields, file_part = form_fields(parts)
    size = len(file_part.data)
    if size > MAX_OBJECT_SIZE:
        raise OssError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
    version = fields.get("x-oss-signature-version")
    if version is None:
        if "ossaccesskeyid" in fields:
            raise OssError("InvalidArgument", "This local OSS accepts only V4 (OSS4-HMAC-SHA256) POST signatures.")
        if not anonymous_writes:
            raise OssError("AccessDenied", "You have no right to access this object because of bucket acl.")
        check_key(fields["key"])
        return fields, file_part
    if version != "OSS4-HMAC-SHA256":
        raise OssError("InvalidArgument", "Unsupported x-oss-signature-version: %s." % version)
    for name in ("policy", "x-oss-credential", "x-oss-date", "x-oss-signature"):
        if not fields.get(name):
            raise OssError("InvalidArgument", "The form field %s is required for V4 POST." % name)
    day = check_credential(fields, identity, region, now)
    signed_at = parse_stamp(fields["x-oss-date"])
    if now - signed_at > MAX_SKEW:
        # The V4 POST document: OSS may receive the form at most 15 minutes after x-oss-date, whatever the
        # policy's expiration says (the strict reading; a client asks for a fresh ticket on this error).
        raise skewed(signed_at, now)
    expected = v4.expected_post_signature(identity.access_key_secret, day, region, fields["policy"])
    if not hmac.compare_digest(expected, fields["x-oss-signature"]):
        raise OssError("SignatureDoesNotMatch", SIGNATURE_MISMATCH)
    document, expiration = decode_policy(fields["policy"])
    check_policy(document, expiration, fields, identity, bucket, size, now)
    check_key(fields["key"])
    return fields, file_part


def success_answer(fields, bucket, key, meta, host, headers):
    redirect = fields.get("success_action_redirect")
    if redirect:
        url = urlsplit(redirect)
        query = urlencode({"bucket": bucket, "key": key, "etag": '"%s"' % meta["etag"]})
        location = redirect + ("&" if url.query else "?") + query
        return Answer(303, headers=headers + [("Location", location)])
    status = fields.get("success_action_status", "204")
    if status == "200":
        return Answer(200, headers=headers)
    if status == "201":
        xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + element("PostResponse", [
            ("Bucket", bucket), ("Location", "%s/%s" % (host, key)), ("Key", key), ("ETag", '"%s"' % meta["etag"])])
        return Answer(201, xml.encode("utf-8"), headers, "application/xml")
    return Answer(204, headers=headers)


MAX_FIELD_VALUE = 2 * 1024 * 1024
MAX_FIELDS_BEFORE_FILE = 8 * 1024 * 1024


class FileSpan:
    """The file part of a form received to disk: where it lies in that file, read back in chunks."""

    def __init__(self, path, start, end):
        self.path, self.start, self.end = path, start, end

    def __len__(self):
        return self.end - self.start

    def chunks(self, size=1024 * 1024):
        with open(self.path, "rb") as source:
            source.seek(self.start)
            left = len(self)
            while left:
                chunk = source.read(min(size, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk


def read_form(path, content_type):
    """The parts of a form body stored at `path`: fields as bytes (within OSS's limits: a value up to 2 MB,
    the fields before the file up to 8 MB), the file as a FileSpan, never loaded whole."""
    if os.path.getsize(path) == 0:
        raise OssError("MalformedPOSTRequest", "The body of your POST request is not well-formed "
                                               "multipart/form-data. (the body is empty)")
    with open(path, "rb") as source, mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ) as buffer:
        try:
            found = formdata.spans(buffer, content_type)
        except formdata.FormDataError as exc:
            raise OssError("MalformedPOSTRequest",
                           "The body of your POST request is not well-formed multipart/form-data. (%s)" % exc)
        parts, before_file, seen_file = [], 0, False
        for name, filename, part_type, start, end in found:
            if name.lower() == "file":
                seen_file = True
                parts.append(formdata.Part(name, filename, part_type, FileSpan(path, start, end)))
                continue
            if end - start > MAX_FIELD_VALUE:
                raise OssError("InvalidArgument", "The form field %s is larger than 2 MB." % name)
            before_file += 0 if seen_file else end - start
            if before_file > MAX_FIELDS_BEFORE_FILE:
                raise OssError("InvalidArgument", "The form fields before the file are larger than 8 MB.")
            parts.append(formdata.Part(name, filename, part_type, buffer[start:end]))
        return parts


def handle(call):
    """The PostObject operation: the body is received to disk first, then checked and applied."""
    oss = call.oss
    form_path = oss.store.temp_path()
    try:
        call.body.to_file(form_path, oss.max_body)
        return _apply(call, read_form(form_path, call.header("Content-Type")))
    finally:
        if os.path.exists(form_path):
            os.remove(form_path)


def _apply(call, parts):
    oss = call.oss
    fields, file_part = post_object(parts, oss.identity, oss.bucket, oss.region, oss.clock(),
                                    oss.settings.acl == "public-read-write")
    key = fields["key"]
    spec = callbacks.parse_spec(fields["callback"]) if "callback" in fields else None
    settings = object_settings(fields.get, fields.items(), key, file_part.content_type)
    forbid = parse_forbid_overwrite(fields.get("x-oss-forbid-overwrite"))
    received = oss.store.temp_path()
    md5, crc = _write(received, file_part.data)
    meta = dict(settings, size=len(file_part.data), etag=md5.upper(), crc64=str(crc), type="Normal")
    try:
        meta = oss.store.commit(key, received, meta, forbid)
    except BaseException:
        os.remove(received)
        raise
    headers = [("ETag", '"%s"' % meta["etag"]), ("x-oss-hash-crc64ecma", meta["crc64"])]
    if spec is not None:
        return callbacks.deliver(call, spec, meta, fields, headers)
    return success_answer(fields, oss.bucket, key, meta, "http://%s" % call.host, headers)


def _write(path, data):
    """Store the file part (bytes or a FileSpan) at `path`; returns (hex MD5, CRC-64)."""
    md5, crc = hashlib.md5(), Crc64()
    with open(path, "wb") as out:
        for chunk in (data.chunks() if isinstance(data, FileSpan) else [data]):
            md5.update(chunk)
            crc.update(chunk)
            out.write(chunk)
    return md5.hexdigest(), crc.value
