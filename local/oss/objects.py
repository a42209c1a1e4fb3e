"""Object operations: PutObject, GetObject, HeadObject (and GetObjectMeta), DeleteObject, CopyObject,
DeleteMultipleObjects, Put/Get/DeleteObjectTagging, Put/GetObjectAcl.

Documented at https://help.aliyun.com/zh/oss/developer-reference/putobject (and the GetObject, HeadObject,
DeleteObject, CopyObject, PutObjectTagging pages next to it)."""

import base64
import os
import re
import shutil
from urllib.parse import unquote

from . import callbacks
from .access import require_owner, require_read, require_write
from .errors import OssError, not_implemented
from .settings import (MAX_OBJECT_SIZE, OBJECT_ACLS, check_key, check_tags, forbid_overwrite,
                       settings_from_headers)
from .wire import Answer, encode_key, http_time, iso_time, owner, parse_http_time, xml_answer

NEEDS_RESTORE = ("Archive", "ColdArchive", "DeepColdArchive")
MAX_COPY_SIZE = 1024 ** 3  # CopyObject copies objects up to 1 GB; larger ones take UploadPartCopy
RESPONSE_OVERRIDES = {"response-content-type": "Content-Type", "response-content-language": "Content-Language",
                      "response-expires": "Expires", "response-cache-control": "Cache-Control",
                      "response-content-disposition": "Content-Disposition",
                      "response-content-encoding": "Content-Encoding"}
_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


# --- answers ---------------------------------------------------------------------------------------

def no_such_key(call):
    return OssError("NoSuchKey", "The specified key does not exist.", Key=call.key)


def existing(call, meta):
    if meta is None:
        raise no_such_key(call)
    return meta


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


def _byte_range(value, size, standard):
    """(start, end inclusive) of the one range to send, or None for the whole object with 200.

    As https://help.aliyun.com/zh/oss/how-to-obtain-oss-resources-by-segmenting-http-range-requests describes:
    only the first of several ranges counts; by default a malformed range or one outside 0..size-1 "does not
    take effect" (200, the whole object); with `x-oss-range-behavior: standard` an end past the object is cut
    to it (206) and a start past it is 416 InvalidRange."""
    first_range = (value or "").strip().split(",")[0].strip()
    match = _RANGE_RE.match(first_range)
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        length = int(last)
        if length == 0 or (length > size and not standard):
            return None
        return max(size - length, 0), size - 1
    start, end = int(first), int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        if standard:
            raise OssError("InvalidRange", "The requested range cannot be satisfied.", RangeRequested=value,
                           ActualObjectSize=size)
        return None
    if end >= size:
        if not standard:
            return None
        end = size - 1
    return start, end


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
        standard = (call.header("x-oss-range-behavior") or "").lower() == "standard"
        byte_range = _byte_range(call.header("Range"), size, standard)
        headers = object_headers(meta, whole=byte_range is None)
        content_type = meta["contentType"]
        overrides = {RESPONSE_OVERRIDES[n]: v for n, v in call.query_pairs if n in RESPONSE_OVERRIDES}
        if overrides and not call.authenticated:
            # "OSS不支持在匿名访问的GET请求中自定义响应头"
            # (https://help.aliyun.com/zh/oss/developer-reference/getobject)
            raise OssError("InvalidRequest", "Anonymous requests cannot override response headers (response-*).")
        if overrides:
            content_type = overrides.pop("Content-Type", content_type)
            headers = [h for h in headers if h[0] not in overrides] + sorted(overrides.items())
        if "objectMeta" in call.params:  # GetObjectMeta: the size, ETag and time only
            source.close()
            headers = [h for h in headers if h[0] in ("ETag", "Last-Modified", "x-oss-hash-crc64ecma")]
            return Answer(200, headers=headers + [("x-oss-last-access-time", http_time(meta["lastModified"]))],
                          length=size)
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


def copy_source(call):
    """The source key of x-oss-copy-source (`/<bucket>/<url-encoded key>`), which must be in this bucket."""
    bucket, _, source_key = unquote(call.header("x-oss-copy-source")).lstrip("/").partition("/")
    if "?" in source_key:
        raise not_implemented("CopyObject of a version (versionId)")
    if bucket != call.oss.bucket:
        raise OssError("NoSuchBucket", "The specified bucket does not exist.", BucketName=bucket)
    return source_key


def _copied_settings(call, meta):
    """x-oss-metadata-directive COPY (default: the source's settings, an explicit ACL or storage class still
    applies) or REPLACE (the request's); x-oss-tagging-directive Copy (default) or Replace."""
    directive = call.header("x-oss-metadata-directive", "COPY")
    if directive not in ("COPY", "REPLACE"):
        raise OssError("InvalidArgument", "x-oss-metadata-directive must be COPY or REPLACE.")
    tag_directive = call.header("x-oss-tagging-directive", "Copy")
    if tag_directive not in ("Copy", "Replace"):
        raise OssError("InvalidArgument", "x-oss-tagging-directive must be Copy or Replace.")
    requested = settings_from_headers(call, meta["contentType"])
    if directive == "REPLACE":
        settings = requested
    else:
        settings = {name: meta.get(name) for name in ("contentType", "headers", "userMeta", "acl", "storageClass")}
        for name, header in (("acl", "x-oss-object-acl"), ("storageClass", "x-oss-storage-class")):
            if call.header(header) is not None:
                settings[name] = requested[name]
    settings["tags"] = requested["tags"] if tag_directive == "Replace" else dict(meta.get("tags", {}))
    return settings


def copy_object(call):
    require_write(call)
    check_key(call.key)
    oss = call.oss
    source_key = copy_source(call)
    call.body.drain()
    meta, data = oss.store.open(source_key)
    if meta is None:
        raise OssError("NoSuchKey", "The specified key does not exist.", Key=source_key)
    with data:
        copy_conditions(call, meta)
        if meta["size"] > MAX_COPY_SIZE:
            raise OssError("InvalidArgument", "CopyObject copies objects up to 1 GB: use UploadPartCopy for larger "
                                              "ones (https://help.aliyun.com/zh/oss/developer-reference/uploadpartcopy).")
        forbid = forbid_overwrite(call)
        if forbid and oss.store.exists(call.key):
            raise OssError("FileAlreadyExists", "The object you specified already exists and can not be overwritten.")
        copied = dict(_copied_settings(call, meta), size=meta["size"], etag=meta["etag"], crc64=meta["crc64"],
                      type=meta.get("type", "Normal"))
        temp = oss.store.temp_path()
        with open(temp, "wb") as out:
            shutil.copyfileobj(data, out, 1024 * 1024)
    try:
        stored = oss.store.commit(call.key, temp, copied, forbid)
    except BaseException:
        os.remove(temp)
        raise
    return xml_answer("CopyObjectResult", [("ETag", '"%s"' % stored["etag"]),
                                           ("LastModified", iso_time(stored["lastModified"]))],
                      headers=[("ETag", '"%s"' % stored["etag"]), ("x-oss-hash-crc64ecma", stored["crc64"])])


def copy_conditions(call, meta):
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
