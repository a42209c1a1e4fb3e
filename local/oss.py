"""A strict local stand-in for one OSS bucket (OSS's V4 signatures and upload callbacks: see local/v4.py and local/callback.py).

    python -m local.oss --port 9100 --bucket <bucket> --data <dir> [--region cn-hangzhou]

Accepts exactly one credential: LOCAL_OSS_ACCESS_KEY_ID, LOCAL_OSS_ACCESS_KEY_SECRET and, when set,
LOCAL_OSS_SECURITY_TOKEN (then every request must carry it). PostObject is checked as OSS does: V4 form
signature, every policy condition, expiry, clock skew, field order, one file; errors are OSS's XML errors.
It is strict on purpose: whatever it accepts, the tests treat as what real OSS accepts.
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import threading
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, unquote, urlsplit
from xml.sax.saxutils import escape

from . import callback, multipart, v4
from .serving import StandInHandler, bound_server, serve

MAX_OBJECT_SIZE = 5 * 1024 ** 3
MAX_SKEW = timedelta(minutes=15)
MAX_V4_AGE = timedelta(days=7)
REQUIRED_V4_FIELDS = ("x-oss-signature-version", "x-oss-credential", "x-oss-date")
STATUS_BY_CODE = {
    "AccessDenied": 403, "SignatureDoesNotMatch": 403, "InvalidAccessKeyId": 403, "InvalidSecurityToken": 403,
    "RequestTimeTooSkewed": 403, "InvalidPolicyDocument": 400, "MalformedPOSTRequest": 400,
    "InvalidArgument": 400, "IncorrectNumberOfFilesInPOSTRequest": 400, "EntityTooLarge": 400,
    "EntityTooSmall": 400, "InvalidObjectName": 400, "FileAlreadyExists": 409, "NoSuchBucket": 404,
    "NoSuchKey": 404, "MethodNotAllowed": 405, "InvalidRequest": 400, "CallbackFailed": 203,
}
_DATE_RE = re.compile(r"^\d{8}T\d{6}Z$")


class OssError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = STATUS_BY_CODE[code]


def _policy_failed(condition):
    return OssError("AccessDenied", "Invalid according to Policy: Policy Condition failed: %s"
                    % json.dumps(condition, ensure_ascii=False).replace('","', '", "'))


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


class Store:
    """Objects on disk: <data>/<bucket>/<sha256(key)>.bin + .json (the key never becomes a path)."""

    def __init__(self, root, bucket):
        self.dir = os.path.join(root, bucket)
        os.makedirs(self.dir, exist_ok=True)
        self.lock = threading.Lock()

    def _paths(self, key):
        name = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return os.path.join(self.dir, name + ".bin"), os.path.join(self.dir, name + ".json")

    def exists(self, key):
        return os.path.exists(self._paths(key)[1])

    def put(self, key, data, content_type, forbid_overwrite):
        data_path, meta_path = self._paths(key)
        etag = hashlib.md5(data).hexdigest().upper()
        with self.lock:
            if forbid_overwrite and os.path.exists(meta_path):
                raise OssError("FileAlreadyExists", "The object you specified already exists and can not be overwritten.")
            with open(data_path + ".tmp", "wb") as out:
                out.write(data)
            os.replace(data_path + ".tmp", data_path)
            meta = {"key": key, "size": len(data), "etag": etag, "contentType": content_type,
                    "lastModified": datetime.now(timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")}
            with open(meta_path, "w") as out:
                json.dump(meta, out)
        return meta

    def get(self, key):
        data_path, meta_path = self._paths(key)
        if not os.path.exists(meta_path):
            return None, None
        with open(meta_path) as meta_file, open(data_path, "rb") as data_file:
            return json.load(meta_file), data_file.read()


# --- PostObject ------------------------------------------------------------------------------------


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
        raise OssError("InvalidArgument", "x-oss-credential must be <AccessKeyId>/<date>/<region>/oss/aliyun_v4_request.")
    key_id, day, cred_region = parts[:3]
    if key_id != identity.access_key_id:
        raise OssError("InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.")
    if cred_region != region:
        raise OssError("InvalidArgument", "Invalid signing region in x-oss-credential: %s, expected %s."
                       % (cred_region, region))
    stamp = parse_stamp(fields["x-oss-date"])
    if day != fields["x-oss-date"][:8]:
        raise OssError("InvalidArgument", "The date in x-oss-credential does not match x-oss-date.")
    if stamp - now > MAX_SKEW:
        raise OssError("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
    if now - stamp > MAX_V4_AGE:
        raise OssError("AccessDenied", "Request has expired.")
    token = fields.get("x-oss-security-token")
    if identity.security_token and not hmac.compare_digest(token or "", identity.security_token):
        raise OssError("InvalidSecurityToken", "The security token you provided is invalid.")
    if token and not identity.security_token:
        raise OssError("InvalidSecurityToken", "The security token you provided is invalid.")
    return day


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
            raise OssError("InvalidPolicyDocument", "Invalid Policy: a simple condition must have exactly one property.")
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


def check_key(key):
    raw = key.encode("utf-8")
    if not 1 <= len(raw) <= 1023 or key.startswith(("/", "\\")) or "\r" in key or "\n" in key:
        raise OssError("InvalidObjectName", "The specified object is not valid.")


def post_object(parts, identity, bucket, region, now):
    """Validate a PostObject form completely; returns (fields, file part). Raises OssError."""
    fields, file_part = form_fields(parts)
    version = fields.get("x-oss-signature-version")
    if version is None:
        if "ossaccesskeyid" in fields:
            raise OssError("InvalidArgument", "This local OSS accepts only V4 (OSS4-HMAC-SHA256) POST signatures.")
        raise OssError("AccessDenied", "You have no right to access this object because of bucket acl.")
    if version != "OSS4-HMAC-SHA256":
        raise OssError("InvalidArgument", "Unsupported x-oss-signature-version: %s." % version)
    for name in ("policy", "x-oss-credential", "x-oss-date", "x-oss-signature"):
        if not fields.get(name):
            raise OssError("InvalidArgument", "The form field %s is required for V4 POST." % name)
    day = check_credential(fields, identity, region, now)
    expected = v4.expected_post_signature(identity.access_key_secret, day, region, fields["policy"])
    if not hmac.compare_digest(expected, fields["x-oss-signature"]):
        raise OssError("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
    document, expiration = decode_policy(fields["policy"])
    size = len(file_part.data)
    if size > MAX_OBJECT_SIZE:
        raise OssError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
    check_policy(document, expiration, fields, identity, bucket, size, now)
    check_key(fields["key"])
    return fields, file_part


def success_response(fields, bucket, key, meta, host):
    status = fields.get("success_action_status", "204")
    if status == "200":
        return 200, b"", "text/plain"
    if status == "201":
        xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse><Bucket>%s</Bucket>"
               "<Location>%s</Location><Key>%s</Key><ETag>\"%s\"</ETag></PostResponse>"
               % (escape(bucket), escape("%s/%s" % (host, key)), escape(key), meta["etag"]))
        return 201, xml.encode("utf-8"), "application/xml"
    return 204, b"", "text/plain"


# --- HTTP ------------------------------------------------------------------------------------------


def error_xml(code, message, request_id, host_id):
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>%s</Code>\n  <Message>%s</Message>\n"
            "  <RequestId>%s</RequestId>\n  <HostId>%s</HostId>\n</Error>\n"
            % (escape(code), escape(message), request_id, escape(host_id))).encode("utf-8")


class LocalOss:
    def __init__(self, bucket, region, identity, data_dir, clock=None, max_body=256 * 1024 * 1024,
                 callback_key=None):
        self.bucket = bucket
        self.region = region
        self.identity = identity
        self.store = Store(data_dir, bucket)
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.max_body = max_body
        self._callback_key = callback_key

    @property
    def callback_key(self):
        if self._callback_key is None:
            self._callback_key = callback.load_or_create_key()
        return self._callback_key

    def split_target(self, host, path):
        """(bucket, key) from a virtual-hosted or path-style request."""
        host_name = (host or "").split(":")[0]
        if host_name.startswith(self.bucket + "."):
            return self.bucket, unquote(path.lstrip("/"))
        bucket, _, key = path.lstrip("/").partition("/")
        return unquote(bucket), unquote(key)


class Handler(StandInHandler):
    server_version = "AliyunOSS"
    log_name = "oss"
    oss = None  # set by make_server

    def _send(self, status, body, content_type, extra=None):
        self.send_response(status)
        self.send_header("x-oss-request-id", self.request_id)
        self.send_header("Content-Length", str(len(body)))
        if body:
            self.send_header("Content-Type", content_type)
        origin = self.headers.get("Origin")
        if origin:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Expose-Headers", "ETag, x-oss-request-id")
            self.send_header("Vary", "Origin")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, exc):
        host_id = self.headers.get("Host", "localhost")
        self._send(exc.status, error_xml(exc.code, exc.message, self.request_id, host_id), "application/xml")

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > self.oss.max_body:
                    self.close_connection = True
                    raise OssError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > self.oss.max_body:
            self.close_connection = True
            raise OssError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
        return self.rfile.read(length)

    def _run(self, action):
        self.request_id = uuid.uuid4().hex[:24].upper()
        try:
            action()
        except OssError as exc:
            self._error(exc)

    def do_OPTIONS(self):
        def preflight():
            origin = self.headers.get("Origin")
            method = self.headers.get("Access-Control-Request-Method")
            if not origin or method not in ("GET", "POST", "PUT", "HEAD"):
                raise OssError("AccessDenied", "CORSResponse: This CORS request is not allowed.")
            requested = self.headers.get("Access-Control-Request-Headers")
            extra = {"Access-Control-Allow-Methods": "GET, POST, PUT, HEAD", "Access-Control-Max-Age": "600"}
            if requested:
                extra["Access-Control-Allow-Headers"] = requested
            self._send(200, b"", "text/plain", extra)
        self._run(preflight)

    def do_POST(self):
        self._run(self._post_object)

    def _post_object(self):
        url = urlsplit(self.path)
        bucket, key_in_path = self.oss.split_target(self.headers.get("Host"), url.path)
        body = self._read_body()
        if bucket != self.oss.bucket:
            raise OssError("NoSuchBucket", "The specified bucket does not exist.")
        if key_in_path:
            raise OssError("MethodNotAllowed", "PostObject is sent to the bucket, not to an object.")
        try:
            parts = multipart.parse(body, self.headers.get("Content-Type"))
        except multipart.MultipartError as exc:
            raise OssError("MalformedPOSTRequest",
                           "The body of your POST request is not well-formed multipart/form-data. (%s)" % exc)
        oss = self.oss
        fields, file_part = post_object(parts, oss.identity, oss.bucket, oss.region, oss.clock())
        spec = None
        if "callback" in fields:
            try:
                spec = callback.parse_spec(fields["callback"])
            except callback.CallbackSpecError as exc:
                raise OssError("InvalidArgument", str(exc))
        content_type = fields.get("content-type") or file_part.content_type or "application/octet-stream"
        meta = oss.store.put(fields["key"], file_part.data, content_type,
                             fields.get("x-oss-forbid-overwrite", "").lower() == "true")
        etag = {"ETag": '"%s"' % meta["etag"]}
        if spec is not None:
            body = callback.render_body(spec, oss.bucket, fields["key"], meta, file_part.data, fields)
            delivered, answer = callback.deliver(spec, body, oss.callback_key)
            if not delivered:  # as OSS: the object stays stored, the uploader learns the callback failed
                failed = OssError("CallbackFailed", "Error status : -1 or the callback server "
                                             "did not answer 200 with a body under 1 MB.")
                self._send(203, error_xml(failed.code, failed.message, self.request_id,
                                          self.headers.get("Host", "localhost")), "application/xml", etag)
                return
            self._send(200, answer, "application/json", etag)
            return
        status, payload, payload_type = success_response(
            fields, oss.bucket, fields["key"], meta, "http://%s" % self.headers.get("Host", ""))
        self._send(status, payload, payload_type, etag)

    def do_GET(self):
        self._run(self._get_object)

    def do_HEAD(self):
        self._run(self._get_object)

    def _get_object(self):
        url = urlsplit(self.path)
        bucket, key = self.oss.split_target(self.headers.get("Host"), url.path)
        if bucket != self.oss.bucket:
            raise OssError("NoSuchBucket", "The specified bucket does not exist.")
        self._check_query_signature(bucket, key, parse_qsl(url.query, keep_blank_values=True))
        meta, data = self.oss.store.get(key)
        if meta is None:
            raise OssError("NoSuchKey", "The specified key does not exist.")
        self._send(200, data, meta["contentType"], {"ETag": '"%s"' % meta["etag"]})

    def _check_query_signature(self, bucket, key, pairs):
        query = dict(pairs)
        if query.get("x-oss-signature-version") != "OSS4-HMAC-SHA256" or "x-oss-signature" not in query:
            raise OssError("AccessDenied", "You have no right to access this object because of bucket acl.")
        oss = self.oss
        now = oss.clock()
        fields = {"x-oss-credential": query.get("x-oss-credential", ""), "x-oss-date": query.get("x-oss-date", "")}
        if "x-oss-security-token" in query:
            fields["x-oss-security-token"] = query["x-oss-security-token"]
        check_credential(fields, oss.identity, oss.region, now)
        expires = query.get("x-oss-expires", "")
        if not expires.isdigit() or not 1 <= int(expires) <= 604800:
            raise OssError("InvalidArgument", "x-oss-expires must be 1 to 604800 seconds.")
        if now > parse_stamp(query["x-oss-date"]) + timedelta(seconds=int(expires)):
            raise OssError("AccessDenied", "Request has expired.")
        signed_pairs = [(n, v) for n, v in pairs if n != "x-oss-signature"]
        headers = {n: v for n, v in self.headers.items()}
        expected = v4.expected_query_signature(oss.identity.access_key_secret, oss.region, self.command,
                                               bucket, key, signed_pairs, headers, query["x-oss-date"])
        if not hmac.compare_digest(expected, query["x-oss-signature"]):
            raise OssError("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")


def make_server(oss, host="127.0.0.1", port=9100):
    return bound_server(Handler, {"oss": oss}, host, port)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m local.oss", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--data", required=True, help="folder the objects are stored under")
    parser.add_argument("--region", default=os.environ.get("LOCAL_OSS_REGION", "cn-hangzhou"))
    parser.add_argument("--callback-key", help="PEM private key that signs upload callbacks (default: a new one)")
    args = parser.parse_args(argv)
    oss = LocalOss(args.bucket, args.region, Identity.from_environ(os.environ), args.data,
                   callback_key=callback.load_or_create_key(args.callback_key) if args.callback_key else None)
    server = make_server(oss, args.host, args.port)
    serve(server, "local.oss: bucket %s (%s) at http://%s:%%d/%s/ , objects under %s"
          % (args.bucket, args.region, args.host, args.bucket, args.data.replace("%", "%%")))


if __name__ == "__main__":
    main()
