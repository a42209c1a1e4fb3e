"""Multipart upload operations: InitiateMultipartUpload, UploadPart, ListParts, CompleteMultipartUpload,
AbortMultipartUpload, ListMultipartUploads.
https://help.aliyun.com/zh/oss/developer-reference/initiatemultipartupload and the pages next to it.

Completion rules as documented: parts listed in ascending order (InvalidPartOrder), each one uploaded with
that ETag (InvalidPart), every part but the last at least 100 KB (EntityTooSmall); `x-oss-complete-all: yes`
takes every uploaded part with no body. The object's ETag is the MD5 of the parts' binary MD5s, "-<count>",
upper-case; its CRC-64 is computed over the whole completed object."""

import base64
import hashlib
import os
import re

from . import callbacks
from .body import copy_to_file
from .crc64 import Crc64
from .errors import OssError
from .objects import copy_conditions, copy_source
from .access import require_write
from .settings import MAX_OBJECT_SIZE, check_key, forbid_overwrite, settings_from_headers
from .uploads import no_such_upload
from .wire import Answer, encode_key, iso_time, now_epoch, xml_answer

MIN_PART_SIZE = 100 * 1024
MAX_PART_SIZE = 5 * 1024 ** 3
MAX_PART_NUMBER = 10000


def _int_param(call, name, default, low, high):
    value = call.params.get(name)
    if value is None or value == "":
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise OssError("InvalidArgument", "%s must be an integer from %d to %d." % (name, low, high),
                       ArgumentName=name, ArgumentValue=value)
    return int(value)


def initiate(call):
    require_write(call)
    check_key(call.key)
    url_encoded = call.url_encoded
    call.body.drain()
    oss = call.oss
    settings = settings_from_headers(call)
    if forbid_overwrite(call) and oss.store.exists(call.key):
        raise OssError("FileAlreadyExists", "The object you specified already exists and can not be overwritten.")
    oss.uploads.expire(oss.settings.lifecycle, now_epoch(oss))
    upload_id = oss.uploads.initiate(call.key, settings, now_epoch(oss))
    children = [("Bucket", oss.bucket), ("Key", encode_key(call.key, url_encoded)), ("UploadId", upload_id)]
    if url_encoded:
        children.insert(0, ("EncodingType", "url"))
    return xml_answer("InitiateMultipartUploadResult", children)


def _part_number(call):
    """partNumber (1..10000) of an upload that exists for this key."""
    number = _int_param(call, "partNumber", None, 1, MAX_PART_NUMBER)
    if number is None:
        raise OssError("InvalidArgument", "partNumber is required.", ArgumentName="partNumber")
    call.oss.uploads.get(call.params["uploadId"], call.key)
    return number


def upload_part(call):
    require_write(call)
    oss = call.oss
    number = _part_number(call)
    received = call.body.to_file(oss.store.temp_path(), MAX_PART_SIZE, call.header("Content-MD5"))
    try:
        part = oss.uploads.put_part(call.params["uploadId"], call.key, number, received, now_epoch(oss))
    except BaseException:
        received.discard()
        raise
    return Answer(200, headers=[("ETag", '"%s"' % part["etag"]), ("x-oss-hash-crc64ecma", part["crc64"]),
                                ("Content-MD5", base64.b64encode(received.md5).decode("ascii"))])


def upload_part_copy(call):
    """UploadPartCopy: part n of an upload taken from an object of this bucket, whole or
    `x-oss-copy-source-range: bytes=first-last`."""
    require_write(call)
    oss = call.oss
    number = _part_number(call)
    source_key = copy_source(call)
    call.body.drain()
    meta, source = oss.store.open(source_key)
    if meta is None:
        raise OssError("NoSuchKey", "The specified key does not exist.", Key=source_key)
    with source:
        copy_conditions(call, meta)
        start, end = _copy_range(call.header("x-oss-copy-source-range"), meta["size"])
        if end - start + 1 > MAX_PART_SIZE:
            raise OssError("InvalidArgument", "A part is at most 5 GB.")
        source.seek(start)
        received = copy_to_file(source, oss.store.temp_path(), end - start + 1)
    try:
        part = oss.uploads.put_part(call.params["uploadId"], call.key, number, received, now_epoch(oss))
    except BaseException:
        received.discard()
        raise
    return xml_answer("CopyPartResult", [("LastModified", iso_time(part["lastModified"])),
                                         ("ETag", '"%s"' % part["etag"])],
                      headers=[("ETag", '"%s"' % part["etag"]), ("x-oss-hash-crc64ecma", part["crc64"])])


def _copy_range(value, size):
    if value is None:
        return 0, size - 1
    match = re.match(r"^bytes=(\d+)-(\d*)$", value.strip())
    if not match:
        raise OssError("InvalidArgument", "x-oss-copy-source-range must be bytes=first-last.")
    start = int(match.group(1))
    end = int(match.group(2)) if match.group(2) else size - 1
    if start > end or end >= size:
        raise OssError("InvalidRange", "The requested range cannot be satisfied.", RangeRequested=value,
                       ActualObjectSize=size)
    return start, end


def list_parts(call):
    require_write(call)
    oss = call.oss
    url_encoded = call.url_encoded
    upload_id = call.params["uploadId"]
    marker = _int_param(call, "part-number-marker", 0, 0, MAX_PART_NUMBER)
    max_parts = _int_param(call, "max-parts", 1000, 1, 1000)
    parts = [p for p in oss.uploads.parts(upload_id, call.key) if p["partNumber"] > marker]
    page, truncated = parts[:max_parts], len(parts) > max_parts
    children = [("Bucket", oss.bucket), ("Key", encode_key(call.key, url_encoded)), ("UploadId", upload_id),
                ("StorageClass", oss.uploads.get(upload_id, call.key)["settings"].get("storageClass", "Standard")),
                ("PartNumberMarker", marker),
                ("NextPartNumberMarker", page[-1]["partNumber"] if page else marker),
                ("MaxParts", max_parts), ("IsTruncated", "true" if truncated else "false")]
    if url_encoded:
        children.insert(0, ("EncodingType", "url"))
    children += [("Part", [("PartNumber", p["partNumber"]), ("LastModified", iso_time(p["lastModified"])),
                           ("ETag", '"%s"' % p["etag"]), ("HashCrc64ecma", p["crc64"]), ("Size", p["size"])])
                 for p in page]
    return xml_answer("ListPartsResult", children)


def abort(call):
    require_write(call)
    call.body.drain()
    call.oss.uploads.abort(call.params["uploadId"], call.key)
    return Answer(204)


def _requested_parts(call, uploaded):
    """[(part number, etag)] from the request body, or every uploaded part with x-oss-complete-all: yes."""
    complete_all = call.header("x-oss-complete-all")
    if complete_all is not None:
        if complete_all != "yes":
            raise OssError("InvalidArgument", "x-oss-complete-all must be yes.")
        if call.body.read(1):
            raise OssError("InvalidArgument", "With x-oss-complete-all: yes the request body must be empty.")
        return [(p["partNumber"], p["etag"]) for p in uploaded]
    root = call.xml_body("CompleteMultipartUpload")
    requested = []
    for node in root.findall("Part"):
        number, etag = (node.findtext("PartNumber") or "").strip(), node.findtext("ETag")
        if not number.isdigit() or etag is None:
            raise OssError("MalformedXML", "Each Part needs a PartNumber and an ETag.")
        requested.append((int(number), etag.strip().strip('"').upper()))
    if not requested:
        raise OssError("MalformedXML", "The XML you provided was not well-formed or did not validate against "
                                       "our published schema.")
    return requested


def _chosen_parts(requested, uploaded, upload_id):
    by_number = {p["partNumber"]: p for p in uploaded}
    chosen = []
    for index, (number, etag) in enumerate(requested):
        if index and number <= requested[index - 1][0]:
            raise OssError("InvalidPartOrder", "The list of parts was not in ascending order. Parts must be "
                                               "ordered by part number.", UploadId=upload_id)
        part = by_number.get(number)
        if part is None or part["etag"] != etag:
            raise OssError("InvalidPart", "One or more of the specified parts could not be found or the "
                                          "specified entity tag might not have matched the part's entity tag.",
                           UploadId=upload_id, PartNumber=number, ETag=etag)
        chosen.append(part)
    for part in chosen[:-1]:
        if part["size"] < MIN_PART_SIZE:
            raise OssError("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size.",
                           PartNumber=part["partNumber"], MinSizeAllowed=MIN_PART_SIZE, ProposedSize=part["size"])
    return chosen


def complete(call):
    require_write(call)
    oss = call.oss
    url_encoded = call.url_encoded
    upload_id = call.params["uploadId"]
    record = oss.uploads.get(upload_id, call.key)
    spec = callbacks.spec_from_headers(call.headers)
    requested = _requested_parts(call, oss.uploads.parts(upload_id, call.key))
    forbid = forbid_overwrite(call)
    if forbid and oss.store.exists(call.key):
        raise OssError("FileAlreadyExists", "The object you specified already exists and can not be overwritten.")
    claimed = oss.uploads.claim(upload_id, call.key)
    try:
        chosen = _chosen_parts(requested, oss.uploads.claimed_parts(claimed), upload_id)
        temp, size, crc = _concatenate(oss, claimed, chosen)
        if size > MAX_OBJECT_SIZE:
            os.remove(temp)
            raise OssError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
        etag = "%s-%d" % (hashlib.md5(b"".join(bytes.fromhex(p["md5"]) for p in chosen)).hexdigest().upper(),
                          len(chosen))
        meta = dict(record["settings"], size=size, etag=etag, crc64=str(crc), type="Multipart")
        try:
            meta = oss.store.commit(call.key, temp, meta, forbid)
        except BaseException:
            os.remove(temp)
            raise
    except BaseException:
        oss.uploads.release(upload_id, claimed)
        raise
    oss.uploads.discard(claimed)
    headers = [("ETag", '"%s"' % etag), ("x-oss-hash-crc64ecma", meta["crc64"])]
    children = [("Location", "http://%s/%s" % (call.host, encode_key(call.key, False))), ("Bucket", oss.bucket),
                ("Key", encode_key(call.key, url_encoded)), ("ETag", '"%s"' % etag)]
    if url_encoded:
        children.insert(0, ("EncodingType", "url"))
    return callbacks.answer(call, spec, meta, headers,
                            xml_answer("CompleteMultipartUploadResult", children, headers=headers))


def _concatenate(oss, claimed, parts):
    temp = oss.store.temp_path()
    crc, size = Crc64(), 0
    with open(temp, "wb") as out:
        for part in parts:
            with open(oss.uploads.part_path(claimed, part), "rb") as source:
                while True:
                    chunk = source.read(1024 * 1024)
                    if not chunk:
                        break
                    crc.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
    return temp, size, crc.value


def list_uploads(call):
    require_write(call)
    oss = call.oss
    url_encoded = call.url_encoded
    oss.uploads.expire(oss.settings.lifecycle, now_epoch(oss))
    prefix = call.params.get("prefix", "")
    delimiter = call.params.get("delimiter", "")
    key_marker = call.params.get("key-marker", "")
    id_marker = call.params.get("upload-id-marker", "")
    max_uploads = _int_param(call, "max-uploads", 1000, 1, 1000)
    entries, prefixes = [], []
    records = oss.uploads.all()  # by key, then initiation time: the marker is a position in that order
    marker_at = next(((r["initiated"], r["uploadId"]) for r in records
                      if r["key"] == key_marker and r["uploadId"] == id_marker), None)
    for record in records:
        key = record["key"]
        if not key.startswith(prefix):
            continue
        if key_marker and (key.encode() < key_marker.encode() or
                           (key == key_marker and _before_marker(record, id_marker, marker_at))):
            continue
        if delimiter:
            cut = key.find(delimiter, len(prefix))
            if cut >= 0:
                common = key[:cut + len(delimiter)]
                if common not in prefixes:
                    prefixes.append(common)
                    entries.append(("prefix", common, record))
                continue
        entries.append(("upload", key, record))
    page, truncated = entries[:max_uploads], len(entries) > max_uploads
    last = page[-1][2] if page else None
    children = [("Bucket", oss.bucket), ("KeyMarker", encode_key(key_marker, url_encoded)),
                ("UploadIdMarker", id_marker),
                ("NextKeyMarker", encode_key(last["key"], url_encoded) if truncated and last else ""),
                ("NextUploadIdMarker", last["uploadId"] if truncated and last else ""),
                ("Delimiter", encode_key(delimiter, url_encoded)), ("Prefix", encode_key(prefix, url_encoded)),
                ("MaxUploads", max_uploads), ("IsTruncated", "true" if truncated else "false")]
    if url_encoded:
        children.insert(0, ("EncodingType", "url"))
    for kind, value, record in page:
        if kind == "prefix":
            children.append(("CommonPrefixes", [("Prefix", encode_key(value, url_encoded))]))
        else:
            children.append(("Upload", [("Key", encode_key(value, url_encoded)), ("UploadId", record["uploadId"]),
                                        ("StorageClass", record["settings"].get("storageClass", "Standard")),
                                        ("Initiated", iso_time(record["initiated"]))]))
    return xml_answer("ListMultipartUploadsResult", children)


def _before_marker(record, id_marker, marker_at):
    """Whether an upload of the marker key comes at or before upload-id-marker (all of them without one)."""
    if not id_marker:
        return True
    if marker_at is None:
        return record["uploadId"] <= id_marker
    return (record["initiated"], record["uploadId"]) <= marker_at


__all__ = ["initiate", "upload_part", "upload_part_copy", "list_parts", "complete", "abort", "list_uploads", "no_such_upload"]
