"""FC 3.0 HTTP-trigger events in, the four-field response dict out (https://help.aliyun.com/zh/functioncompute/fc-3-0/user-guide/http-trigger-invoking-function)."""

import base64
import binascii

from . import jsontext
from .errors import RequestError
from .record import REQUIRED, Record

MAX_BODY_BYTES = 64 * 1024  # every request body of this API is a small JSON object


class Request(Record):
    """One HTTP request: header names lowercased, repeated values comma-joined, body as bytes."""

    __slots__ = ("method", "path", "headers", "query", "body", "request_id", "source_ip", "raw_path")
    _fields = (("method", REQUIRED), ("path", REQUIRED), ("headers", {}), ("query", {}), ("body", b""),
               ("request_id", ""), ("source_ip", ""), ("raw_path", None))
    # raw_path: the path as sent, still URL-encoded (the event's rawPath): what OSS signs in a callback.
    _hidden = ("headers", "body")

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def json(self):
        """The body as a JSON object; RequestError (400/413) when it is not one."""
        if len(self.body) > MAX_BODY_BYTES:
            raise RequestError("request_too_large", "the request body is over %d bytes" % MAX_BODY_BYTES)
        if not self.body.strip():
            raise RequestError("bad_request", "a JSON body is required")
        try:
            data = jsontext.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise RequestError("bad_request", "the body is not valid UTF-8 JSON")
        if not isinstance(data, dict):
            raise RequestError("bad_request", "the body must be a JSON object")
        return data


def _string_map(value, lower_keys):
    if not isinstance(value, dict):
        return {}
    result = {}
    for name, item in value.items():
        if not isinstance(name, str):
            continue
        if isinstance(item, list):
            item = ",".join(str(v) for v in item)
        elif not isinstance(item, str):
            item = "" if item is None else str(item)
        key = name.lower() if lower_keys else name
        result[key] = result[key] + "," + item if key in result else item
    return result


def _body(event):
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise RequestError("bad_request", "the event body is not a string")
    if event.get("isBase64Encoded") is True:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise RequestError("bad_request", "the body is marked base64 but is not")
    return body.encode("utf-8", "surrogatepass")


def _decoded_path(event, http):
    path = http.get("path")
    if isinstance(path, str) and path:
        return path
    raw = event.get("rawPath")
    if isinstance(raw, str) and raw:
        from urllib.parse import unquote  # only for events without the decoded path: off the cold path

        return unquote(raw)
    return "/"


def _route_path(decoded):
    """The path routes match: one leading slash, no trailing slash."""
    return ("/" + decoded.lstrip("/")).rstrip("/") or "/"


def parse_event(event, fallback_request_id=""):
    """bytes/str/dict of an HTTP-trigger event → Request; RequestError (400) if it is not one."""
    if isinstance(event, (bytes, bytearray)):
        try:
            event = jsontext.loads(event)
        except (UnicodeDecodeError, ValueError):
            raise RequestError("bad_request", "the event is not UTF-8 JSON")
    elif isinstance(event, str):
        try:
            event = jsontext.loads(event)
        except ValueError:
            raise RequestError("bad_request", "the event is not JSON")
    if not isinstance(event, dict):
        raise RequestError("bad_request", "the event is not an HTTP-trigger event")
    context = event.get("requestContext")
    context = context if isinstance(context, dict) else {}
    http = context.get("http")
    http = http if isinstance(http, dict) else {}
    method = http.get("method")
    if not isinstance(method, str) or not method.isalpha():
        raise RequestError("bad_request", "the event has no HTTP method")
    request_id = context.get("requestId")
    source_ip = http.get("sourceIp")
    decoded = _decoded_path(event, http)
    return Request(
        method=method.upper(),
        path=_route_path(decoded),
        raw_path=event["rawPath"] if isinstance(event.get("rawPath"), str) else decoded,
        headers=_string_map(event.get("headers"), lower_keys=True),
        query=_string_map(event.get("queryParameters"), lower_keys=False),
        body=_body(event),
        request_id=request_id if isinstance(request_id, str) and request_id else fallback_request_id,
        source_ip=source_ip if isinstance(source_ip, str) else "",
    )


class Text(str):
    """A plain-text answer body (WeChat's message push wants the bare echostr, or `success`)."""


def response(status, body=None, headers=None):
    """The dict FC turns into the HTTP answer; the body is JSON, plain Text, or empty."""
    out_headers = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}
    if isinstance(body, Text):
        out_headers["Content-Type"] = "text/plain; charset=utf-8"
    out_headers.update(headers or {})
    text = "" if body is None else str(body) if isinstance(body, Text) else jsontext.dumps(body)
    if body is None:
        out_headers.pop("Content-Type")
    return {"statusCode": status, "headers": out_headers, "isBase64Encoded": False, "body": text}
