"""Upload callbacks after PutObject and CompleteMultipartUpload: `x-oss-callback` (base64 JSON, as the
PostObject `callback` field) and `x-oss-callback-var` (base64 JSON of {"x:name": value}).
https://help.aliyun.com/zh/oss/developer-reference/callback . The callback itself is local/callback.py."""

import base64
import binascii
import json

from .. import callback
from .errors import OssError
from .wire import Answer, error_answer_body

HEAD_BYTES = 1024 * 1024  # enough of the object for ${imageInfo.*}


def parse_spec(field):
    try:
        return callback.parse_spec(field)
    except callback.CallbackSpecError as exc:
        raise OssError("InvalidArgument", str(exc), ec="0007-00000004")


def spec_from_headers(headers):
    field = headers.get("x-oss-callback")
    if field is None:
        return None
    spec = parse_spec(field)
    variables = {}
    raw = headers.get("x-oss-callback-var")
    if raw is not None:
        try:
            variables = json.loads(base64.b64decode(raw, validate=True).decode("utf-8"))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise OssError("InvalidArgument", "x-oss-callback-var is not base64 JSON.", ec="0007-00000005")
        if not isinstance(variables, dict):
            raise OssError("InvalidArgument", "x-oss-callback-var must be a JSON object.", ec="0007-00000005")
    spec["variables"] = {str(k).lower(): str(v) for k, v in variables.items()}
    return spec


def deliver(call, spec, meta, fields, headers):
    """Run the callback for a stored object: 200 with the callback server's body, or 203 CallbackFailed
    (the object stays stored, as on OSS)."""
    oss = call.oss
    _, source = oss.store.open(meta["key"])
    head = b""
    if source is not None:
        with source:
            head = source.read(HEAD_BYTES)
    body = callback.render_body(spec, oss.bucket, meta["key"], meta, head, fields)
    delivered, answer = callback.deliver(spec, body, oss.callback_key)
    if not delivered:
        failed = OssError("CallbackFailed", "Error status : -1 or the callback server did not answer 200 "
                                            "with a body under 1 MB.")
        return Answer(203, error_answer_body(failed, call), headers + [("x-oss-ec", failed.ec)], "application/xml")
    return Answer(200, answer, headers, "application/json")


def answer(call, spec, meta, headers, plain):
    if spec is None:
        return plain
    return deliver(call, spec, meta, spec.get("variables", {}), headers)
