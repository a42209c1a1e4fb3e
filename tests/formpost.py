"""Test helpers: multipart/form-data bodies as mini programs send them, and small HTTP calls."""

import json
import urllib.error
import urllib.request
import uuid


def encode_form(fields, file_data=None, filename="upload.bin", file_type="application/octet-stream",
                extra_after_file=(), files=1):
    """`fields` in order, then `files` file parts named `file`, then `extra_after_file` fields."""
    boundary = "----ossgateTest" + uuid.uuid4().hex
    chunks = []

    def text(name, value):
        chunks.append(('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n' % (boundary, name)).encode())
        chunks.append(value.encode("utf-8") + b"\r\n")

    for name, value in (fields.items() if isinstance(fields, dict) else fields):
        text(name, value)
    for _ in range(files):
        chunks.append(('--%s\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\n'
                       'Content-Type: %s\r\n\r\n' % (boundary, filename, file_type)).encode())
        chunks.append((file_data or b"") + b"\r\n")
    for name, value in extra_after_file:
        text(name, value)
    chunks.append(("--%s--\r\n" % boundary).encode())
    return b"".join(chunks), "multipart/form-data; boundary=" + boundary


def http(method, url, body=None, headers=None, timeout=10):
    """(status, headers, body bytes); never raises on an HTTP error status."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def post_json(url, payload, headers=None):
    status, head, body = http("POST", url, json.dumps(payload).encode(),
                              dict({"Content-Type": "application/json"}, **(headers or {})))
    return status, json.loads(body) if body else None


def post_form(url, fields, file_data, **kwargs):
    body, content_type = encode_form(fields, file_data, **kwargs)
    return http("POST", url, body, {"Content-Type": content_type})


def oss_error_code(body):
    text = body.decode("utf-8")
    return text.split("<Code>")[1].split("</Code>")[0] if "<Code>" in text else None
