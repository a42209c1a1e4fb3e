"""ListObjects (GET /) and ListObjectsV2 (GET /?list-type=2): prefix, delimiter, marker / start-after,
continuation-token, max-keys, fetch-owner, encoding-type=url.
https://help.aliyun.com/zh/oss/developer-reference/listobjectsv2"""

import base64
import binascii

from .access import require_list
from .errors import OssError
from .wire import encode_key, iso_time, owner, xml_answer


def _max_keys(call):
    value = call.params.get("max-keys", "100")
    if not value.isdigit() or not 1 <= int(value) <= 1000:
        raise OssError("InvalidArgument", "max-keys must be an integer from 1 to 1000.",
                       ArgumentName="max-keys", ArgumentValue=value)
    return int(value)


def _page(call, after, max_keys):
    """(entries, truncated): entries are ("key", meta) or ("prefix", text), in key order, after `after`."""
    prefix = call.params.get("prefix", "")
    delimiter = call.params.get("delimiter", "")
    entries, seen = [], set()
    for meta in call.oss.store.keys():
        key = meta["key"]
        if not key.startswith(prefix) or (after and key.encode() <= after.encode()):
            continue
        if delimiter:
            cut = key.find(delimiter, len(prefix))
            if cut >= 0:
                common = key[:cut + len(delimiter)]
                if common in seen or (after and common.encode() <= after.encode()):
                    continue
                seen.add(common)
                entries.append(("prefix", common))
                if len(entries) > max_keys:
                    break
                continue
        entries.append(("key", meta))
        if len(entries) > max_keys:
            break
    return entries[:max_keys], len(entries) > max_keys


def _last_name(entry):
    return entry[1] if entry[0] == "prefix" else entry[1]["key"]


def _contents(entries, url_encoded, with_owner):
    children = []
    for kind, value in entries:
        if kind == "prefix":
            continue
        item = [("Key", encode_key(value["key"], url_encoded)), ("LastModified", iso_time(value["lastModified"])),
                ("ETag", '"%s"' % value["etag"]), ("Type", value.get("type", "Normal")), ("Size", value["size"]),
                ("StorageClass", value.get("storageClass", "Standard"))]
        if with_owner:
            item.append(("Owner", owner()))
        children.append(("Contents", item))
    children += [("CommonPrefixes", [("Prefix", encode_key(v, url_encoded))]) for k, v in entries if k == "prefix"]
    return children


def list_objects(call):
    require_list(call)
    url_encoded = call.url_encoded
    max_keys = _max_keys(call)
    marker = call.params.get("marker", "")
    entries, truncated = _page(call, marker, max_keys)
    children = [("Name", call.oss.bucket), ("Prefix", encode_key(call.params.get("prefix", ""), url_encoded)),
                ("Marker", encode_key(marker, url_encoded)), ("MaxKeys", max_keys),
                ("Delimiter", encode_key(call.params.get("delimiter", ""), url_encoded)),
                ("IsTruncated", "true" if truncated else "false")]
    if truncated:
        children.append(("NextMarker", encode_key(_last_name(entries[-1]), url_encoded)))
    if url_encoded:
        children.append(("EncodingType", "url"))
    return xml_answer("ListBucketResult", children + _contents(entries, url_encoded, True))


def list_objects_v2(call):
    require_list(call)
    url_encoded = call.url_encoded
    max_keys = _max_keys(call)
    token = call.params.get("continuation-token")
    start_after = call.params.get("start-after", "")
    after = start_after
    if token:
        try:
            after = base64.b64decode(token, validate=True).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise OssError("InvalidArgument", "The continuation token provided is incorrect.",
                           ArgumentName="continuation-token", ArgumentValue=token)
        if start_after and start_after.encode() > after.encode():
            after = start_after
    entries, truncated = _page(call, after, max_keys)
    children = [("Name", call.oss.bucket), ("Prefix", encode_key(call.params.get("prefix", ""), url_encoded)),
                ("MaxKeys", max_keys), ("Delimiter", encode_key(call.params.get("delimiter", ""), url_encoded)),
                ("IsTruncated", "true" if truncated else "false")]
    if start_after:
        children.append(("StartAfter", encode_key(start_after, url_encoded)))
    if token:
        children.append(("ContinuationToken", token))
    if truncated:
        next_token = base64.b64encode(_last_name(entries[-1]).encode("utf-8")).decode("ascii")
        children.append(("NextContinuationToken", next_token))
    if url_encoded:
        children.append(("EncodingType", "url"))
    children.append(("KeyCount", len(entries)))
    fetch_owner = call.params.get("fetch-owner", "false") == "true"
    return xml_answer("ListBucketResult", children + _contents(entries, url_encoded, fetch_owner))
