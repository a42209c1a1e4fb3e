"""OSS's error answer: one exception, one status table, the XML body with a request id and an EC code.

Error XML as OSS sends it (https://help.aliyun.com/zh/oss/support/oss-error-center):
<Error><Code/><Message/><RequestId/><HostId/>[extra elements]<EC/><RecommendDoc/></Error>.
The EC values are this stand-in's own (real ECs are per error cause and are not all published); they keep
OSS's "XXXX-XXXXXXXX" shape so SDKs that parse them (oss2's OssError.ec) see one.
"""

import base64
from xml.sax.saxutils import escape

STATUS_BY_CODE = {
    "AccessDenied": 403, "AccessForbidden": 403, "SignatureDoesNotMatch": 403, "InvalidAccessKeyId": 403,
    "InvalidSecurityToken": 403, "RequestTimeTooSkewed": 403, "InvalidObjectState": 403,
    "InvalidPolicyDocument": 400, "MalformedPOSTRequest": 400, "InvalidArgument": 400,
    "IncorrectNumberOfFilesInPOSTRequest": 400, "EntityTooLarge": 400, "EntityTooSmall": 400,
    "InvalidObjectName": 400, "InvalidRequest": 400, "InvalidDigest": 400,
    "InvalidPart": 400, "InvalidPartOrder": 400, "MalformedXML": 400, "InvalidTag": 400,
    "InvalidEncodingType": 400, "InvalidTargetType": 400, "MissingContentLength": 411,
    "NoSuchBucket": 404, "NoSuchKey": 404, "NoSuchUpload": 404, "NoSuchCORSConfiguration": 404,
    "NoSuchLifecycle": 404, "MethodNotAllowed": 405, "FileAlreadyExists": 409, "PreconditionFailed": 412,
    "InvalidRange": 416, "NotImplemented": 501, "CallbackFailed": 203, "InternalError": 500,
}

# This stand-in's EC per code (first group: the error family; second: the cause within it).
EC_BY_CODE = {
    "AccessDenied": "0003-00000001", "AccessForbidden": "0003-00000201",
    "SignatureDoesNotMatch": "0002-00000201", "InvalidAccessKeyId": "0002-00000030",
    "InvalidSecurityToken": "0002-00000042", "RequestTimeTooSkewed": "0002-00000504",
    "InvalidObjectState": "0027-00000001", "InvalidPolicyDocument": "0006-00000001",
    "MalformedPOSTRequest": "0006-00000002", "InvalidArgument": "0017-00000001",
    "IncorrectNumberOfFilesInPOSTRequest": "0006-00000003", "EntityTooLarge": "0006-00000004",
    "EntityTooSmall": "0006-00000005", "InvalidObjectName": "0016-00000005", "InvalidRequest": "0017-00000101",
    "InvalidDigest": "0017-00000502", "InvalidPart": "0042-00000003",
    "InvalidPartOrder": "0042-00000004", "MalformedXML": "0017-00000201", "InvalidTag": "0036-00000001",
    "InvalidEncodingType": "0017-00000301", "InvalidTargetType": "0017-00000401",
    "MissingContentLength": "0016-00000301", "NoSuchBucket": "0015-00000101", "NoSuchKey": "0026-00000001",
    "NoSuchUpload": "0042-00000002", "NoSuchCORSConfiguration": "0020-00000001",
    "NoSuchLifecycle": "0021-00000001", "MethodNotAllowed": "0016-00000401",
    "FileAlreadyExists": "0026-00000201", "PreconditionFailed": "0026-00000101", "InvalidRange": "0026-00000003",
    "NotImplemented": "0001-00000001", "CallbackFailed": "0007-00000203", "InternalError": "0000-00000500",
}


class OssError(Exception):
    """An answer OSS would give instead of the operation: `code` picks the status; `extra` adds elements
    such as <Key> or <UploadId> after <HostId>, as OSS does."""

    def __init__(self, code, message, ec=None, **extra):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = STATUS_BY_CODE[code]
        self.ec = ec or EC_BY_CODE.get(code, "0000-00000001")
        self.extra = extra


def not_implemented(what):
    return OssError("NotImplemented", "A header or query you provided requested a function that is not "
                                      "implemented by this local OSS: %s." % what)


def error_xml(error, request_id, host_id):
    extra = "".join("  <%s>%s</%s>\n" % (name, escape(str(value)), name) for name, value in error.extra.items())
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>%s</Code>\n  <Message>%s</Message>\n"
            "  <RequestId>%s</RequestId>\n  <HostId>%s</HostId>\n%s  <EC>%s</EC>\n"
            "  <RecommendDoc>https://api.aliyun.com/troubleshoot?q=%s</RecommendDoc>\n</Error>\n"
            % (escape(error.code), escape(error.message), request_id, escape(host_id), extra, error.ec,
               error.ec)).encode("utf-8")


def error_headers(error, body, head):
    """x-oss-ec always; for a HEAD (no body allowed) OSS carries the XML in x-oss-err, base64."""
    headers = {"x-oss-ec": error.ec}
    if head:
        headers["x-oss-err"] = base64.b64encode(body).decode("ascii")
    return headers
