"""HTTP: which bucket and key a request names, who sent it, which operation it is, and OSS's answer.

Every answer carries x-oss-request-id; every error is OSS's XML (with EC; for HEAD in x-oss-err);
an operation this stand-in does not implement answers 501 NotImplemented, after the body is read."""

import sys
import traceback
import uuid
from urllib.parse import parse_qsl, unquote, urlsplit

from ..serving import StandInHandler
from . import bucket as bucket_ops, listing, multipart, objects, postobject
from .body import Body
from .errors import OssError, error_headers, error_xml, not_implemented
from .sigv4 import authenticate
from .wire import Call

SIGNING_PARAMS = {"x-oss-signature-version", "x-oss-credential", "x-oss-date", "x-oss-expires", "x-oss-signature",
                  "x-oss-security-token", "x-oss-additional-headers"}
PLAIN_PARAMS = {"encoding-type", "prefix", "delimiter", "max-keys", "marker", "continuation-token", "start-after",
                "fetch-owner", "list-type", "key-marker", "upload-id-marker", "max-uploads", "part-number-marker",
                "max-parts", "partNumber", "uploadId"} | set(objects.RESPONSE_OVERRIDES) | SIGNING_PARAMS
OBJECT_SUBRESOURCES = ("uploads", "uploadId", "tagging", "acl", "objectMeta")
BUCKET_SUBRESOURCES = ("bucketInfo", "acl", "cors", "lifecycle", "location", "uploads", "delete")

OBJECT_ROUTES = {
    ("PUT", None): objects.put_object, ("PUT", "copy"): objects.copy_object,
    ("PUT", "uploadId"): multipart.upload_part, ("PUT", "copy-part"): multipart.upload_part_copy,
    ("PUT", "tagging"): objects.put_tagging,
    ("PUT", "acl"): objects.put_acl,
    ("GET", None): objects.get_object, ("GET", "uploadId"): multipart.list_parts,
    ("GET", "tagging"): objects.get_tagging, ("GET", "acl"): objects.get_acl,
    ("HEAD", None): objects.get_object, ("HEAD", "objectMeta"): objects.get_object,
    ("DELETE", None): objects.delete_object, ("DELETE", "uploadId"): multipart.abort,
    ("DELETE", "tagging"): objects.delete_tagging,
    ("POST", "uploads"): multipart.initiate, ("POST", "uploadId"): multipart.complete,
    ("POST", None): objects.post_to_object,
}
BUCKET_ROUTES = {
    ("GET", None): listing.list_objects, ("GET", "list-type"): listing.list_objects_v2,
    ("GET", "bucketInfo"): bucket_ops.get_bucket_info, ("GET", "acl"): bucket_ops.get_bucket_acl,
    ("GET", "cors"): bucket_ops.get_bucket_cors, ("GET", "lifecycle"): bucket_ops.get_bucket_lifecycle,
    ("GET", "location"): bucket_ops.get_bucket_location, ("GET", "uploads"): multipart.list_uploads,
    ("POST", None): postobject.handle, ("POST", "delete"): objects.delete_multiple,
}


def operation(method, key, params, headers):
    """The function that serves the request; NotImplemented for anything else."""
    unknown = sorted(n for n in params if n not in PLAIN_PARAMS and n not in OBJECT_SUBRESOURCES
                     and n not in BUCKET_SUBRESOURCES)
    if unknown:
        raise not_implemented("?" + unknown[0])
    if key:
        sub = next((s for s in OBJECT_SUBRESOURCES if s in params), None)
        if sub == "uploadId" and "uploads" in params:
            raise OssError("InvalidArgument", "uploads and uploadId cannot be used together.")
        if method == "PUT" and headers.get("x-oss-copy-source") is not None:
            if sub not in (None, "uploadId"):
                raise not_implemented("copy with ?" + sub)
            sub = "copy-part" if sub == "uploadId" else "copy"
        route = OBJECT_ROUTES.get((method, sub))
    else:
        sub = next((s for s in BUCKET_SUBRESOURCES if s in params), None)
        if sub is None and params.get("list-type") is not None:
            if params["list-type"] != "2":
                raise OssError("InvalidArgument", "list-type must be 2.")
            sub = "list-type"
        route = BUCKET_ROUTES.get((method, sub))
    if route is None:
        raise not_implemented("%s %s%s" % (method, "object" if key else "bucket", " ?" + sub if sub else ""))
    return route


class Handler(StandInHandler):
    server_version = "AliyunOSS"
    log_name = "oss"
    oss = None  # set by make_server

    # --- plumbing --------------------------------------------------------------------------------

    def version_string(self):
        return self.server_version

    def handle(self):
        try:
            super().handle()
        except (ConnectionResetError, BrokenPipeError):
            pass  # the client went away (a test cutting an upload): nothing to answer

    def send_error(self, code, message=None, explain=None):
        """Whatever http.server itself refuses (unknown method, bad request line) answers as OSS."""
        self.request_id = getattr(self, "request_id", None) or _request_id()
        status_code = "NotImplemented" if code == 501 else "InvalidRequest"
        error = OssError(status_code, message or "The request is not valid.")
        self.close_connection = True
        body = error_xml(error, self.request_id, "localhost")
        try:
            self.send_response(error.status)
            self._common_headers(len(body), "application/xml", error_headers(error, body, False).items())
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except OSError:
            pass

    def _common_headers(self, length, content_type, extra):
        self.send_header("x-oss-request-id", self.request_id)
        self.send_header("Content-Length", str(length))
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in extra:
            self.send_header(name, value)

    def _send(self, answer, cors=()):
        self.send_response(answer.status)
        self._common_headers(answer.length, answer.content_type, list(answer.headers) + list(cors))
        self.end_headers()
        if self.command == "HEAD":
            if answer.stream is not None:
                answer.stream.close()
            return
        if answer.stream is None:
            self.wfile.write(answer.body)
            return
        with answer.stream:
            left = answer.length
            while left > 0:
                chunk = answer.stream.read(min(1024 * 1024, left))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)

    def _send_error(self, error, host, cors):
        body = error_xml(error, self.request_id, host)
        head = self.command == "HEAD"
        self.send_response(error.status)
        self._common_headers(0 if head else len(body), "application/xml",
                             list(error_headers(error, body, head).items()) + list(cors))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    # --- requests --------------------------------------------------------------------------------

    def do_GET(self):
        self._handle()

    do_HEAD = do_PUT = do_POST = do_DELETE = do_GET

    def do_OPTIONS(self):
        self.request_id = _request_id()
        body = None
        try:
            body = Body(self.rfile, self.headers)
            body.drain()
            self._send(bucket_ops.preflight(self.oss.settings, self.headers))
        except OssError as error:
            if body is None:
                self.close_connection = True
            self._send_error(error, self.headers.get("Host", "localhost"), ())

    def _cors(self):
        origin = self.headers.get("Origin")
        if not origin:
            return []
        rule = self.oss.settings.cors_rule(origin, self.command)
        return bucket_ops.cors_headers(rule, origin) if rule else []

    def _handle(self):
        self.request_id = _request_id()
        host = self.headers.get("Host", "localhost")
        cors = self._cors()
        body = None
        try:
            body = Body(self.rfile, self.headers)
            answer = self._dispatch(body, host)
        except (ConnectionResetError, BrokenPipeError):
            raise
        except Exception as exc:  # a bug here must still answer as OSS would (500 InternalError), never hang
            if not isinstance(exc, OssError):
                traceback.print_exc(file=sys.stderr)
                exc = OssError("InternalError", "We encountered an internal error. Please try again.")
                self.close_connection = True
            error = exc
            if body is None or self.close_connection:
                self.close_connection = True
            else:
                body.drain()
            self._send_error(error, host, cors)
            return
        body.drain()
        self._send(answer, cors)

    def _dispatch(self, body, host):
        oss = self.oss
        url = urlsplit(self.path)
        bucket, key = oss.split_target(host, url.path)
        pairs = parse_qsl(url.query, keep_blank_values=True)
        if not bucket:
            raise not_implemented("ListBuckets (GET /)")
        if bucket != oss.bucket:
            raise OssError("NoSuchBucket", "The specified bucket does not exist.", BucketName=bucket)
        route, unrouted = None, None
        try:
            route = operation(self.command, key, dict(pairs), self.headers)
        except OssError as error:
            unrouted = error
        # PostObject carries its own signature in the form: OSS ignores an Authorization header or URL signature
        authenticated = route is not postobject.handle and authenticate(
            self.command, bucket, key, pairs, self.headers, oss.identity, oss.region, oss.clock())
        if unrouted is not None:
            if unrouted.code == "NotImplemented" and not authenticated and oss.settings.acl == "private":
                raise OssError("AccessDenied", "You have no right to access this object because of bucket acl.")
            raise unrouted
        return route(Call(oss, self.command, bucket, key, pairs, self.headers, body, authenticated, host,
                          self.request_id))


def _request_id():
    return uuid.uuid4().hex[:24].upper()


def split_target(bucket_name, host, path):
    """(bucket, key) from a virtual-hosted (<bucket>.<anything>) or path-style (/<bucket>/<key>) request."""
    host_name = (host or "").split(":")[0]
    if host_name.startswith(bucket_name + "."):
        return bucket_name, unquote(path[1:] if path.startswith("/") else path)
    bucket, _, key = (path[1:] if path.startswith("/") else path).partition("/")
    return unquote(bucket), unquote(key)
