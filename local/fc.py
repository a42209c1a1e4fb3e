"""A local stand-in for an FC 3.0 HTTP trigger in front of `function/index.py`.

    python -m local.fc --port 9000

Each HTTP request becomes an HTTP-trigger event (bytes of JSON, as the python3.10 runtime passes it) and a
context carrying the credentials from ALIBABA_CLOUD_*; the handler's four-field dict becomes the answer.
Like a built-in runtime each instance runs one invocation at a time and calls `initialize` once first; a
request that finds every instance busy starts another instance.
"""

import argparse
import base64
import importlib
import importlib.util
import json
import os
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from types import SimpleNamespace
from urllib.parse import parse_qsl, unquote, urlsplit

from .serving import StandInHandler, bound_server, serve

FUNCTION_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "function")
MAX_HEADER_BYTES = 8 * 1024
MAX_BODY_BYTES = 32 * 1024 * 1024
TEXT_TYPES = ("text/", "application/json", "application/x-www-form-urlencoded", "application/xml")
STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".mjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                ".json": "application/json", ".png": "image/png", ".svg": "image/svg+xml"}


def joined(pairs):
    """FC joins repeated header and query values with commas."""
    result = {}
    for name, value in pairs:
        result[name] = result[name] + "," + value if name in result else value
    return result


def build_event(method, raw_target, headers, body, source_ip, request_id, now):
    url = urlsplit(raw_target)
    content_type = joined(headers).get("Content-Type", "") or ""
    is_text = not body or content_type.lower().startswith(TEXT_TYPES)
    if is_text:
        try:
            body_text, encoded = body.decode("utf-8"), False
        except UnicodeDecodeError:
            is_text = False
    if not is_text:
        body_text, encoded = base64.b64encode(body).decode("ascii"), True
    header_map = joined(headers)
    return {
        "version": "v1",
        "rawPath": url.path,
        "body": body_text,
        "isBase64Encoded": encoded,
        "headers": header_map,
        "queryParameters": joined(parse_qsl(url.query, keep_blank_values=True)),
        "requestContext": {
            "accountId": "1234567890123456",
            "domainName": "local.cn-hangzhou.fcapp.run",
            "domainPrefix": "local",
            "requestId": request_id,
            "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "timeEpoch": str(int(now.timestamp() * 1000)),
            "triggerId": "local-http-trigger",
            "http": {
                "method": method,
                "path": unquote(url.path),
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": header_map.get("User-Agent", ""),
            },
        },
    }


def build_context(request_id, env):
    credentials = None
    if env.get("ALIBABA_CLOUD_ACCESS_KEY_ID"):
        credentials = SimpleNamespace(
            access_key_id=env.get("ALIBABA_CLOUD_ACCESS_KEY_ID"),
            access_key_secret=env.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
            security_token=env.get("ALIBABA_CLOUD_SECURITY_TOKEN"),
        )
    return SimpleNamespace(
        request_id=request_id,
        credentials=credentials,
        function=SimpleNamespace(name="ossgate", handler="index.handler", memory=128, timeout=10),
        service=SimpleNamespace(name="ossgate", log_project="", log_store=""),
        region=env.get("FC_REGION", "cn-hangzhou"),
        account_id="1234567890123456",
    )


def check_result(result):
    """FC's answer is only defined for the four-field dict: anything else is the function's bug (502)."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        raise TypeError("the handler must return {statusCode, headers, isBase64Encoded, body}")
    if not isinstance(result.get("headers", {}), dict) or not isinstance(result.get("body", ""), str):
        raise TypeError("headers must be a dict and body a string")
    body = result.get("body", "")
    return base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")


class FunctionHost:
    """Imports function/index.py the way the runtime does. Like FC's built-in runtimes, an instance serves one
    invocation at a time, and a request that finds every instance busy gets a new instance (its own import of
    index.py, its own `initialize`), up to `max_instances`. That matters when the function calls something
    that calls the function back: CompleteMultipartUpload waits on OSS, which posts the upload callback."""

    def __init__(self, function_dir=FUNCTION_DIR, env=None, static=None, max_instances=4):
        if function_dir not in sys.path:
            sys.path.insert(0, function_dir)
        self.index_path = os.path.join(function_dir, "index.py")
        self.env = os.environ if env is None else env
        self.static = static or {}  # URL prefix -> folder, for the demo page
        self.max_instances = max_instances
        self._instances = []        # [(module, lock)]
        self._pool_lock = threading.Lock()
        self.module = self._start_instance(importlib.import_module("index"))

    def _start_instance(self, module=None):
        if module is None:
            name = "index_instance_%d" % len(self._instances)
            spec = importlib.util.spec_from_file_location(name, self.index_path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        if hasattr(module, "initialize"):
            module.initialize(build_context("initializer-" + uuid.uuid4().hex, self.env))
        self._instances.append((module, threading.Lock()))
        return module

    def _acquire(self):
        with self._pool_lock:
            for module, lock in self._instances:
                if lock.acquire(blocking=False):
                    return module, lock
            if len(self._instances) < self.max_instances:
                self._start_instance()
                module, lock = self._instances[-1]
                lock.acquire()
                return module, lock
        module, lock = self._instances[0]
        lock.acquire()
        return module, lock

    def invoke(self, event_bytes, request_id):
        module, lock = self._acquire()
        try:
            return module.handler(event_bytes, build_context(request_id, self.env))
        finally:
            lock.release()


class Handler(StandInHandler):
    log_name = "fc"
    host = None

    def _answer(self, status, body, headers):
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _fc_error(self, status, code, message):
        body = json.dumps({"ErrorCode": code, "ErrorMessage": message}).encode()
        self._answer(status, body, {"Content-Type": "application/json", "x-fc-request-id": self.request_id})

    def _serve_static(self):
        path = urlsplit(self.path).path
        for prefix, folder in self.host.static.items():
            if path == prefix.rstrip("/"):
                self._answer(301, b"", {"Location": prefix})
                return True
            if path.startswith(prefix):
                relative = unquote(path[len(prefix):]) or "index.html"
                full = os.path.realpath(os.path.join(folder, relative))
                if not full.startswith(os.path.realpath(folder) + os.sep) or not os.path.isfile(full):
                    return False
                with open(full, "rb") as source:
                    data = source.read()
                kind = STATIC_TYPES.get(os.path.splitext(full)[1], "application/octet-stream")
                self._answer(200, data, {"Content-Type": kind, "Cache-Control": "no-cache"})
                return True
        return False

    def _invoke(self):
        self.request_id = "1-%08x-%s" % (int(time.time()), uuid.uuid4().hex[:24])
        if self.command == "GET" and self._serve_static():
            return
        header_bytes = sum(len(k) + len(v) + 4 for k, v in self.headers.items())
        if header_bytes > MAX_HEADER_BYTES:
            return self._fc_error(400, "InvalidArgument", "request headers exceed 8 KB")
        if any(name.lower().startswith("x-fc-") for name in self.headers.keys()):
            return self._fc_error(400, "InvalidArgument", "request headers beginning x-fc- are reserved")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            return self._fc_error(413, "PayloadTooLarge", "sync request body exceeds 32 MB")
        body = self.rfile.read(length) if length else b""
        event = build_event(self.command, self.path, list(self.headers.items()), body,
                            self.client_address[0], self.request_id, datetime.now(timezone.utc))
        try:
            result = self.host.invoke(json.dumps(event).encode("utf-8"), self.request_id)
            payload = check_result(result)
        except Exception as exc:  # FC answers a function crash as 502 with its own error body
            sys.stderr.write("local.fc: handler failed: %r\n" % (exc,))
            return self._fc_error(502, "FunctionUnhandledError", "the function raised or returned a bad value")
        headers = dict(result.get("headers") or {})
        headers["x-fc-request-id"] = self.request_id
        self._answer(result["statusCode"], payload, headers)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _invoke


def make_server(host_obj, host="127.0.0.1", port=9000):
    return bound_server(Handler, {"host": host_obj}, host, port)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m local.fc", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--static", action="append", default=[], metavar="PREFIX=DIR",
                        help="also serve DIR's files under URL PREFIX (the demo page)")
    args = parser.parse_args(argv)
    static = dict(item.split("=", 1) for item in args.static)
    server = make_server(FunctionHost(static=static), args.host, args.port)
    serve(server, "local.fc: function/index.py:handler at http://%s:%%d/" % args.host)


if __name__ == "__main__":
    main()
