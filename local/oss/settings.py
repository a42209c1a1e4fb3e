"""What an upload sets on an object (PutObject, InitiateMultipartUpload, CopyObject with REPLACE, PostObject),
checked as OSS checks it: the key, Content-Type and the stored headers, x-oss-meta-* (letters, digits and -,
8 KB in all), x-oss-object-acl, x-oss-storage-class, x-oss-tagging, x-oss-forbid-overwrite.
https://help.aliyun.com/zh/oss/developer-reference/putobject"""

import mimetypes
import re
from urllib.parse import parse_qsl

from .errors import OssError

MAX_OBJECT_SIZE = 5 * 1024 ** 3
MAX_USER_META = 8 * 1024
OBJECT_ACLS = ("default", "private", "public-read", "public-read-write")
STORAGE_CLASSES = ("Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive")
STORED_HEADERS = ("Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires")
_META_NAME_RE = re.compile(r"^x-oss-meta-[A-Za-z0-9-]+$")


def check_key(key):
    raw = key.encode("utf-8")
    if not 1 <= len(raw) <= 1023 or key.startswith(("/", "\\")) or "\r" in key or "\n" in key:
        raise OssError("InvalidObjectName", "The specified object is not valid.")


def object_settings(lookup, items, key, default_type=None):
    """What an upload sets on the object, from request headers or PostObject form fields.
    `lookup(lower-case name)` → value or None; `items`: every (name, value) (for x-oss-meta-*)."""
    content_type = lookup("content-type") or default_type or mimetypes.guess_type(key)[0] \
        or "application/octet-stream"
    stored = {name: lookup(name.lower()) for name in STORED_HEADERS if lookup(name.lower()) is not None}
    user_meta, size = {}, 0
    for name, value in items:
        lower = name.lower()
        if lower.startswith("x-oss-meta-"):
            if not _META_NAME_RE.match(lower):
                raise OssError("InvalidArgument", "The user metadata name %s has characters OSS does not allow "
                                                  "(letters, digits and - only)." % name, ec="0011-00000004")
            user_meta[lower] = value
            size += len(lower.encode()) + len(value.encode())
    if size > MAX_USER_META:
        raise OssError("InvalidArgument", "Your metadata headers exceed the maximum allowed metadata size (8 KB).",
                       ec="0011-00000002")
    acl = lookup("x-oss-object-acl") or "default"
    if acl not in OBJECT_ACLS:
        raise OssError("InvalidArgument", "no such object access control exists", ArgumentName="x-oss-object-acl",
                       ArgumentValue=acl)
    storage_class = lookup("x-oss-storage-class") or "Standard"
    if storage_class not in STORAGE_CLASSES:
        raise OssError("InvalidArgument", "Invalid storage class: %s." % storage_class,
                       ArgumentName="x-oss-storage-class", ArgumentValue=storage_class)
    tags = parse_tagging_header(lookup("x-oss-tagging"))
    return {"contentType": content_type, "headers": stored, "userMeta": user_meta, "acl": acl,
            "storageClass": storage_class, "tags": tags}


def settings_from_headers(call, default_type=None):
    return object_settings(lambda name: call.headers.get(name), call.headers.items(), call.key, default_type)


def parse_tagging_header(value):
    if value is None:
        return {}
    return check_tags(parse_qsl(value, keep_blank_values=True))


def check_tags(pairs):
    """Tag rules (https://help.aliyun.com/zh/oss/user-guide/object-tagging-8): at most 10, key 1..128
    characters, value up to 256, keys unique."""
    tags = {}
    for name, value in pairs:
        if not 1 <= len(name) <= 128:
            raise OssError("InvalidTag", "The tag key must be 1 to 128 characters.")
        if len(value) > 256:
            raise OssError("InvalidTag", "The tag value must be at most 256 characters.")
        if name in tags:
            raise OssError("InvalidTag", "Tag keys must be unique: %s." % name)
        tags[name] = value
    if len(tags) > 10:
        raise OssError("InvalidTag", "An object can have at most 10 tags.")
    return tags


def forbid_overwrite(call):
    return parse_forbid_overwrite(call.header("x-oss-forbid-overwrite"))


def parse_forbid_overwrite(value):
    """x-oss-forbid-overwrite is `true` or `false` (https://help.aliyun.com/zh/oss/user-guide/0017-00000279)."""
    if value is None:
        return False
    if value.strip().lower() not in ("true", "false"):
        raise OssError("InvalidArgument", "x-oss-forbid-overwrite must be true or false.", ec="0017-00000279",
                       ArgumentName="x-oss-forbid-overwrite", ArgumentValue=value)
    return value.strip().lower() == "true"
