"""Object operations: PutObject, GetObject, HeadObject (and GetObjectMeta), DeleteObject, CopyObject,
Put/Get/DeleteObjectTagging, Put/GetObjectAcl, and the object settings every upload path applies.

Documented at https://help.aliyun.com/zh/oss/developer-reference/putobject (and the GetObject, HeadObject,
DeleteObject, CopyObject, PutObjectTagging pages next to it)."""

import base64
import mimetypes
import os
import re
from urllib.parse import parse_qsl, unquote

from . import callbacks
from .errors import OssError
from .wire import Answer, encode_key, http_time, iso_time, owner, parse_http_time, xml_answer

MAX_OBJECT_SIZE = 5 * 1024 ** 3
MAX_USER_META = 8 * 1024
OBJECT_ACLS = ("default", "private", "public-read", "public-read-write")
STORAGE_CLASSES = ("Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive")
NEEDS_RESTORE = ("Archive", "ColdArchive", "DeepColdArchive")
STORED_HEADERS = ("Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires")
RESPONSE_OVERRIDES = {"response-content-type": "Content-Type", "response-content-language": "Content-Language",
                      "response-expires": "Expires", "response-cache-control": "Cache-Control",
                      "response-content-disposition": "Content-Disposition",
                      "response-content-encoding": "Content-Encoding"}
_META_NAME_RE = re.compile(r"^x-oss-meta-[A-Za-z0-9-]+$")
_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
NO_ACL_RIGHT = "You have no right to access this object because of bucket acl."


# --- keys and settings -----------------------------------------------------------------------------

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


# --- access ----------------------------------------------------------------------------------------

def effective_acl(call, meta):
    object_acl = (meta or {}).get("acl", "default")
    return call.oss.settings.acl if object_acl == "default" else object_acl


def require_read(call, meta):
    if not call.authenticated and effective_acl(call, meta) not in ("public-read", "public-read-write"):
        raise OssError("AccessDenied", NO_ACL_RIGHT)


def require_write(call):
    if not call.authenticated and call.oss.settings.acl != "public-read-write":
        raise OssError("AccessDenied", NO_ACL_RIGHT)


def require_owner(call):
    if not call.authenticated:
        raise OssError("AccessDenied", NO_ACL_RIGHT)


def no_such_key(call):
    return OssError("NoSuchKey", "The specified key does not exist.", Key=call.key)


def existing(call, meta):
    if meta is None:
        raise no_such_key(call)
    return meta


# --- answers ---------------------------------------------------------------------------------------

def object_headers(meta, whole=True):
    headers = [("ETag", '"%s"' % meta["etag"]), ("Last-Modified", http_time(meta["lastModified"])),
               ("Accept-Ranges", "bytes"), ("x-oss-object-type", meta.get("type", "Normal")),
               ("x-oss-storage-class", meta.get("storageClass", "Standard"))]
    if whole:
        headers.append(("x-oss-hash-crc64ecma", str(meta["crc64"])))
    headers += sorted(meta.get("headers", {}).items())
    headers += sorted(meta.get("userMeta", {}).items())
    if meta.get("tags"):
        headers.append(("x-oss-tagging-count", str(len(meta["tags"]))))
    return headers


def _not_modified(call, meta):
    etag = '"%s"' % meta["etag"]
    modified = int(meta["lastModified"])
    if_match = call.header("If-Match")
    if if_match is not None and if_match.strip() not in (etag, meta["etag"], "*"):
        raise OssError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold.",
                       Condition="If-Match")
    since = parse_http_time(call.header("If-Unmodified-Since"))
    if since is not None and modified > since:
        raise OssError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold.",
                       Condition="If-Unmodified-Since")
    if_none = call.header("If-None-Match")
    if if_none is not None:
        return if_none.strip() in (etag, meta["etag"], "*")
    since = parse_http_time(call.header("If-Modified-Since"))
    return since is not None and modified <= since


def _byte_range(value, size):
    """(start, end inclusive) for a single satisfiable `bytes=` range; None to send the whole object
    (no Range, or one OSS ignores: malformed or several ranges); InvalidRange when it starts past the end."""
    match = _RANGE_RE.match((value or "").strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        length = int(last)
        if length == 0:
            return None
        return max(size - length, 0), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise OssError("InvalidRange", "The requested range cannot be satisfied.", RangeRequested=value,
                       ActualObjectSize=size)
    return start, min(end, size - 1)


def get_object(call):
    oss = call.oss
    meta, source = oss.store.open(call.key)
    try:
        require_read(call, meta)
        existing(call, meta)
        if call.method == "GET" and meta.get("storageClass") in NEEDS_RESTORE:
            raise OssError("InvalidObjectState", "The operation is not valid for the object's state.")
        if _not_modified(call, meta):
            source.close()
            return Answer(304, headers=[h for h in object_headers(meta) if h[0] in ("ETag", "Last-Modified")])
        size = meta["size"]
        byte_range = _byte_range(call.header("Range"), size)
        headers = object_headers(meta, whole=byte_range is None)
        content_type = meta["contentType"]
        overrides = {RESPONSE_OVERRIDES[n]: v for n, v in call.query_pairs if n in RESPONSE_OVERRIDES}
        if overrides:
            content_type = overrides.pop("Content-Type", content_type)
            headers = [h for h in headers if h[0] not in overrides] + sorted(overrides.items())
        if byte_range is None:
            return Answer(200, headers=headers, content_type=content_type, stream=source, length=size)
        start, end = byte_range
        source.seek(start)
        headers.append(("Content-Range", "bytes %d-%d/%d" % (start, end, size)))
        return Answer(206, headers=headers, content_type=content_type, stream=source, length=end - start + 1)
    except BaseException:
        if source is not None:
            source.close()
        raise


def post_to_object(call):
    raise OssError("MethodNotAllowed", "The specified method is not allowed against this resource: PostObject is "
                                       "sent to the bucket, not to an object.", Method="POST", ResourceType="Object")


def delete_object(call):
    require_write(call)
    check_key(call.key)
    call.oss.store.delete(call.key)
    return Answer(204)


def delete_multiple(call):
    """DeleteMultipleObjects (POST /?delete): at most 1000 keys, Content-MD5 required; missing keys count as
    deleted. https://help.aliyun.com/zh/oss/developer-reference/deletemultipleobjects"""
    require_write(call)
    url_encoded = call.url_encoded
    if call.header("Content-MD5") is None:
        raise OssError("InvalidDigest", "Missing required header for this request: Content-MD5.")
    root = call.xml_body("Delete")
    keys = [node.findtext("Key") or "" for node in root.findall("Object")]
    if not 1 <= len(keys) <= 1000:
        raise OssError("MalformedXML", "A Delete request names 1 to 1000 objects.")
    quiet = (root.findtext("Quiet") or "false").strip().lower() == "true"
    for key in keys:
        check_key(key)
    for key in keys:
        call.oss.store.delete(key)
    children = [] if quiet else [("Deleted", [("Key", encode_key(key, url_encoded))]) for key in keys]
    if url_encoded:
        children.append(("EncodingType", "url"))
    return xml_answer("DeleteResult", children)


def put_object(call):
    require_write(call)
    check_key(call.key)
    oss = call.oss
    settings = settings_from_headers(call)
    spec = callbacks.spec_from_headers(call.headers)
    if forbid_overwrite(call) and oss.store.exists(call.key):
        raise OssError("FileAlreadyExists", "The object you specified already exists and can not be overwritten.")
    received = call.body.to_file(oss.store.temp_path(), MAX_OBJECT_SIZE, call.header("Content-MD5"))
    meta = dict(settings, size=received.size, etag=received.etag, crc64=str(received.crc64), type="Normal")
    try:
        meta = oss.store.commit(call.key, received.path, meta, forbid_overwrite(call))
    except BaseException:
        received.discard()
        raise
    headers = [("ETag", '"%s"' % meta["etag"]), ("x-oss-hash-crc64ecma", meta["crc64"]),
               ("Content-MD5", base64.b64encode(received.md5).decode("ascii"))]
    return callbacks.answer(call, spec, meta, headers, Answer(200, headers=headers))


def copy_object(call):
    require_write(call)
    check_key(call.key)
    oss = call.oss
    source = unquote(call.header("x-oss-copy-source"))
    bucket, _, source_key = source.lstrip("/").partition("/")
    if "?" in source_key:
        raise OssError("NotImplemented", "Copying a version (versionId) is not implemented by this local OSS.")
    if bucket != oss.bucket:
        raise OssError("NoSuchBucket", "The specified bucket does not exist.", BucketName=bucket)
    directive = call.header("x-oss-metadata-directive", "COPY")
    if directive not in ("COPY", "REPLACE"):
        raise OssError("InvalidArgument", "x-oss-metadata-directive must be COPY or REPLACE.")
    tag_directive = call.header("x-oss-tagging-directive", "Copy")
    if tag_directive not in ("Copy", "Replace"):
        raise OssError("InvalidArgument", "x-oss-tagging-directive must be Copy or Replace.")
    call.body.drain()
    meta, data = oss.store.open(source_key)
    if meta is None:
        raise OssError("NoSuchKey", "The specified key does not exist.", Key=source_key)
    with data:
        _copy_conditions(call, meta)
        if forbid_overwrite(call) and oss.store.exists(call.key):
            raise OssError("FileAlreadyExists", "The object you specified already exists and can not be overwritten.")
        settings = settings_from_headers(call, meta["contentType"]) if directive == "REPLACE" else {
            name: meta.get(name) for name in ("contentType", "headers", "userMeta", "acl", "storageClass")}
        if "x-oss-object-acl" in call.headers or "x-oss-storage-class" in call.headers:
            replaced = settings_from_headers(call, meta["contentType"])
            for name, header in (("acl", "x-oss-object-acl"), ("storageClass", "x-oss-storage-class")):
                if header in call.headers:
                    settings[name] = replaced[name]
        settings["tags"] = parse_tagging_header(call.header("x-oss-tagging")) if tag_directive == "Replace" \
            else dict(meta.get("tags", {}))
        temp = oss.store.temp_path()
        with open(temp, "wb") as out:
            while True:
                chunk = data.read(1024 * 1024)
                if not chunk:
                    break
                out.write(chunk)
    copied = dict(settings, size=meta["size"], etag=meta["etag"], crc64=meta["crc64"],
                  type=meta.get("type", "Normal"))
    copied.pop("lastModified", None)
    try:
        stored = oss.store.commit(call.key, temp, copied, forbid_overwrite(call))
    except BaseException:
        os.remove(temp)
        raise
    return xml_answer("CopyObjectResult", [("ETag", '"%s"' % stored["etag"]),
                                           ("LastModified", iso_time(stored["lastModified"]))],
                      headers=[("ETag", '"%s"' % stored["etag"]), ("x-oss-hash-crc64ecma", stored["crc64"])])


def _copy_conditions(call, meta):
    etag = '"%s"' % meta["etag"]
    checks = (("x-oss-copy-source-if-match", lambda v: v.strip() in (etag, meta["etag"])),
              ("x-oss-copy-source-if-none-match", lambda v: v.strip() not in (etag, meta["etag"])),
              ("x-oss-copy-source-if-unmodified-since",
               lambda v: parse_http_time(v) is None or int(meta["lastModified"]) <= parse_http_time(v)),
              ("x-oss-copy-source-if-modified-since",
               lambda v: parse_http_time(v) is None or int(meta["lastModified"]) > parse_http_time(v)))
    for header, holds in checks:
        value = call.header(header)
        if value is not None and not holds(value):
            raise OssError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold.",
                           Condition=header)


# --- tagging and ACL -------------------------------------------------------------------------------

def put_tagging(call):
    require_owner(call)
    root = call.xml_body("Tagging")
    pairs = []
    for tag in root.findall("TagSet/Tag"):
        pairs.append(((tag.findtext("Key") or ""), (tag.findtext("Value") or "")))
    tags = check_tags(pairs)
    existing(call, call.oss.store.update(call.key, lambda meta: dict(meta, tags=tags)))
    return Answer(200)


def get_tagging(call):
    require_owner(call)
    meta = existing(call, call.oss.store.head(call.key))
    tags = [("Tag", [("Key", k), ("Value", v)]) for k, v in meta.get("tags", {}).items()]
    return xml_answer("Tagging", [("TagSet", tags)])


def delete_tagging(call):
    require_owner(call)
    existing(call, call.oss.store.update(call.key, lambda meta: dict(meta, tags={})))
    return Answer(204)


def put_acl(call):
    require_owner(call)
    call.body.drain()
    acl = call.header("x-oss-object-acl")
    if acl not in OBJECT_ACLS:
        raise OssError("InvalidArgument", "no such object access control exists", ArgumentName="x-oss-object-acl",
                       ArgumentValue=acl or "")
    existing(call, call.oss.store.update(call.key, lambda meta: dict(meta, acl=acl)))
    return Answer(200)


def get_acl(call):
    require_owner(call)
    meta = existing(call, call.oss.store.head(call.key))
    return xml_answer("AccessControlPolicy", [("Owner", owner()),
                                              ("AccessControlList", [("Grant", meta.get("acl", "default"))])])
