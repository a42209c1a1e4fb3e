"""The bucket's settings (ACL, CORS rules, lifecycle rules), given at start, and the bucket operations that
read them: GetBucketInfo, GetBucketAcl, GetBucketCors, GetBucketLifecycle, GetBucketLocation.

`--bucket-config FILE`: {"acl": "private" | "public-read" | "public-read-write",
 "cors": [{"allowedOrigins", "allowedMethods", "allowedHeaders", "exposeHeaders", "maxAgeSeconds"}],
 "lifecycle": [{"id", "prefix", "abortMultipartUploadDays"}]}. A key left out of the file means none
(no CORS rule, no lifecycle rule, private). Without a file: private, every origin allowed, incomplete
multipart uploads aborted after 1 day. XML shapes: https://help.aliyun.com/zh/oss/developer-reference/getbucketinfo ,
getbucketacl, getbucketcors, getbucketlifecycle."""

import fnmatch
import json
import time

from .access import require_owner
from .errors import OssError
from .wire import Answer, iso_time, owner, xml_answer

BUCKET_ACLS = ("private", "public-read", "public-read-write")
CORS_METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")
DEFAULT_CORS = [{"allowedOrigins": ["*"], "allowedMethods": list(CORS_METHODS), "allowedHeaders": ["*"],
                 "exposeHeaders": ["ETag", "x-oss-request-id", "x-oss-hash-crc64ecma"], "maxAgeSeconds": 600}]
DEFAULT_LIFECYCLE = [{"id": "abort-incomplete-multipart-uploads", "prefix": "", "abortMultipartUploadDays": 1}]
CORS_REFUSED = ("CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
                "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not "
                "whitelisted by the resource's CORS spec.")


class BucketConfigError(ValueError):
    pass


def _strings(rule, name, required):
    value = rule.get(name, [] if not required else None)
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value) or (required and not value):
        raise BucketConfigError("cors.%s must be a list of strings%s" % (name, " (at least one)" if required else ""))
    return value


def _cors_rule(rule):
    if not isinstance(rule, dict):
        raise BucketConfigError("each cors rule must be an object")
    unknown = set(rule) - {"allowedOrigins", "allowedMethods", "allowedHeaders", "exposeHeaders", "maxAgeSeconds"}
    if unknown:
        raise BucketConfigError("unknown cors rule fields: %s" % ", ".join(sorted(unknown)))
    methods = _strings(rule, "allowedMethods", True)
    if any(m not in CORS_METHODS for m in methods):
        raise BucketConfigError("cors.allowedMethods may hold only %s" % ", ".join(CORS_METHODS))
    for origin in _strings(rule, "allowedOrigins", True):
        if origin.count("*") > 1:
            raise BucketConfigError("an allowed origin may hold at most one *")
    max_age = rule.get("maxAgeSeconds")
    if max_age is not None and (not isinstance(max_age, int) or isinstance(max_age, bool) or max_age < 0):
        raise BucketConfigError("cors.maxAgeSeconds must be a non-negative integer")
    return {"allowedOrigins": rule["allowedOrigins"], "allowedMethods": methods,
            "allowedHeaders": _strings(rule, "allowedHeaders", False),
            "exposeHeaders": _strings(rule, "exposeHeaders", False), "maxAgeSeconds": max_age}


def _lifecycle_rule(rule):
    if not isinstance(rule, dict) or set(rule) - {"id", "prefix", "abortMultipartUploadDays"}:
        raise BucketConfigError("each lifecycle rule is {id, prefix, abortMultipartUploadDays}")
    days = rule.get("abortMultipartUploadDays")
    if not isinstance(rule.get("id"), str) or not rule["id"] or not isinstance(rule.get("prefix", ""), str) \
            or not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise BucketConfigError("a lifecycle rule needs an id, a prefix string and abortMultipartUploadDays >= 1")
    return {"id": rule["id"], "prefix": rule.get("prefix", ""), "abortMultipartUploadDays": days}


class BucketSettings:
    def __init__(self, acl="private", cors=(), lifecycle=(), created=None):
        if acl not in BUCKET_ACLS:
            raise BucketConfigError("acl must be one of %s" % ", ".join(BUCKET_ACLS))
        self.acl = acl
        self.cors = [_cors_rule(r) for r in cors]
        self.lifecycle = [_lifecycle_rule(r) for r in lifecycle]
        self.created = created if created is not None else time.time()

    @classmethod
    def default(cls):
        return cls("private", DEFAULT_CORS, DEFAULT_LIFECYCLE)

    @classmethod
    def from_document(cls, document):
        if not isinstance(document, dict):
            raise BucketConfigError("the bucket config must be a JSON object")
        unknown = set(document) - {"acl", "cors", "lifecycle"}
        if unknown:
            raise BucketConfigError("unknown bucket config fields: %s" % ", ".join(sorted(unknown)))
        for name in ("cors", "lifecycle"):
            if not isinstance(document.get(name, []), list):
                raise BucketConfigError("%s must be a list" % name)
        return cls(document.get("acl", "private"), document.get("cors", []), document.get("lifecycle", []))

    @classmethod
    def from_file(cls, path):
        with open(path) as source:
            try:
                return cls.from_document(json.load(source))
            except json.JSONDecodeError as exc:
                raise BucketConfigError("not JSON: %s" % exc)

    def cors_rule(self, origin, method, request_headers=()):
        """The first rule allowing the origin, method and (preflight) headers, as OSS matches them."""
        for rule in self.cors:
            if method not in rule["allowedMethods"]:
                continue
            if not any(_matches(pattern, origin) for pattern in rule["allowedOrigins"]):
                continue
            if all(any(_matches(p.lower(), h.lower()) for p in rule["allowedHeaders"]) for h in request_headers):
                return rule
        return None


def _matches(pattern, value):
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]")) if "*" in pattern else value == pattern


def cors_headers(rule, origin, preflight_method=None, request_headers=()):
    """The CORS answer headers (https://help.aliyun.com/zh/oss/developer-reference/options): the request's
    origin; for a preflight the requested method and headers, for an actual request the rule's methods."""
    methods = preflight_method or ", ".join(rule["allowedMethods"])
    headers = [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Methods", methods)]
    if preflight_method and request_headers:
        headers.append(("Access-Control-Allow-Headers", ", ".join(request_headers)))
    if rule["exposeHeaders"]:
        headers.append(("Access-Control-Expose-Headers", ", ".join(rule["exposeHeaders"])))
    if rule["maxAgeSeconds"] is not None:
        headers.append(("Access-Control-Max-Age", str(rule["maxAgeSeconds"])))
    headers.append(("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"))
    return headers


def preflight(settings, headers):
    """The answer to OPTIONS: 200 with the matched rule's headers, or 403 AccessForbidden."""
    origin = headers.get("Origin")
    method = headers.get("Access-Control-Request-Method")
    requested = [h.strip() for h in (headers.get("Access-Control-Request-Headers") or "").split(",") if h.strip()]
    if not origin or not method:
        raise OssError("AccessForbidden", "CORSResponse: Invalid preflight: Origin and "
                                          "Access-Control-Request-Method are required.")
    if not settings.cors:
        raise OssError("AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.")
    rule = settings.cors_rule(origin, method, requested)
    if rule is None:
        raise OssError("AccessForbidden", CORS_REFUSED)
    return Answer(200, headers=cors_headers(rule, origin, method, requested))


# --- bucket operations -----------------------------------------------------------------------------

def get_bucket_info(call):
    require_owner(call)
    oss = call.oss
    return xml_answer("BucketInfo", [("Bucket", [
        ("AccessMonitor", "Disabled"), ("CreationDate", iso_time(oss.settings.created)),
        ("ExtranetEndpoint", "oss-%s.aliyuncs.com" % oss.region),
        ("IntranetEndpoint", "oss-%s-internal.aliyuncs.com" % oss.region),
        ("Location", "oss-%s" % oss.region), ("StorageClass", "Standard"),
        ("TransferAcceleration", "Disabled"), ("CrossRegionReplication", "Disabled"),
        ("Name", oss.bucket), ("ResourceGroupId", "rg-local"), ("Owner", owner()),
        ("AccessControlList", [("Grant", oss.settings.acl)]), ("Comment", ""), ("BlockPublicAccess", "false"),
        ("DataRedundancyType", "LRS"),
        ("ServerSideEncryptionRule", [("SSEAlgorithm", "None")]),
        ("BucketPolicy", [("LogBucket", ""), ("LogPrefix", "")]),
    ])])


def get_bucket_acl(call):
    require_owner(call)
    return xml_answer("AccessControlPolicy", [("Owner", owner()),
                                              ("AccessControlList", [("Grant", call.oss.settings.acl)])])


def get_bucket_location(call):
    require_owner(call)
    return xml_answer("LocationConstraint", "oss-%s" % call.oss.region)


def get_bucket_cors(call):
    require_owner(call)
    rules = call.oss.settings.cors
    if not rules:
        raise OssError("NoSuchCORSConfiguration", "The CORS configuration does not exist.",
                       BucketName=call.oss.bucket)
    children = []
    for rule in rules:
        items = [("AllowedOrigin", o) for o in rule["allowedOrigins"]]
        items += [("AllowedMethod", m) for m in rule["allowedMethods"]]
        items += [("AllowedHeader", h) for h in rule["allowedHeaders"]]
        items += [("ExposeHeader", h) for h in rule["exposeHeaders"]]
        if rule["maxAgeSeconds"] is not None:
            items.append(("MaxAgeSeconds", rule["maxAgeSeconds"]))
        children.append(("CORSRule", items))
    children.append(("ResponseVary", "false"))
    return xml_answer("CORSConfiguration", children)


def get_bucket_lifecycle(call):
    require_owner(call)
    rules = call.oss.settings.lifecycle
    if not rules:
        raise OssError("NoSuchLifecycle", "No Row found in Lifecycle Table.", BucketName=call.oss.bucket)
    return xml_answer("LifecycleConfiguration", [("Rule", [
        ("ID", rule["id"]), ("Prefix", rule["prefix"]), ("Status", "Enabled"),
        ("AbortMultipartUpload", [("Days", rule["abortMultipartUploadDays"])])]) for rule in rules])
