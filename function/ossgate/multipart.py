"""Multipart uploads: large files, resumable, and no larger than allowed, because only the server completes them.

The client only PUTs parts, to presigned UploadPart URLs; the server initiates, lists, completes and aborts
through the official SDK (ossclient). A presigned PUT cannot limit a part's size, so the limit is enforced at
complete: the server lists what OSS holds (never trusting a client's list), refuses a total above the limit and
aborts the upload, so no oversized object ever exists.
https://help.aliyun.com/zh/oss/user-guide/multipart-upload

How complete, handed only `{key, uploadId}`, knows the limit: the key says it. A multipart key is built by the
same rules as a form upload's, with the declared size in its object id (`<random id>-<size>`, see
keys.sized_id), and its profile in the path. No MAC is needed: only the server initiates uploads, and OSS binds an
uploadId to the key it was initiated for, so an edited key names no upload (404 no_such_upload). Complete refuses
a total above the declared size (413, stricter than the profile's maxSize alone) and below it (400
incomplete_upload: a client completing early would otherwise store a truncated file).
"""

import json
import re

from . import keys, signer, tickets
from .errors import OssgateError, RequestError, TicketError
from .record import REQUIRED, Record

# Parts are PUT with this Content-Type, signed into every part URL. The object's own type is set at initiate;
# one fixed part type lets `/parts` sign URLs with no state beyond the key.
PART_CONTENT_TYPE = "application/octet-stream"
# 1 MiB goes up in about 33 s at 256 kbit/s, inside WeChat's 60 s request timeout on a poor mobile uplink.
DEFAULT_PART_SIZE = 1024 * 1024
MIN_PART_SIZE = 100 * 1024          # OSS: every part but the last is at least 100 KB
MAX_PART_SIZE = 5 * 1024 ** 3       # OSS: a part is at most 5 GB
MAX_PARTS = 10000                   # OSS: part numbers 1..10000
MAX_URLS = 100                      # part URLs in one answer
MAX_KEY_BYTES = 1023
MAX_NAMED_MISSING = 20              # missing part numbers spelled out in an error message
_UPLOAD_ID_RE = re.compile(r"^[A-Za-z0-9._~+/=-]{1,256}$")


class Upload(Record):
    """A multipart upload a caller names: its key (checked to be theirs), uploadId, and what the key says."""

    __slots__ = ("key", "upload_id", "profile", "declared_size")
    _fields = (("key", REQUIRED), ("upload_id", REQUIRED), ("profile", REQUIRED), ("declared_size", REQUIRED))


def _whole(value, low):
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def part_plan(size, suggested=None):
    """(partSize, partCount) for a file of `size` bytes: the suggestion (or the default) clamped to what OSS
    allows, raised where needed so the file fits in 10,000 parts."""
    part_size = DEFAULT_PART_SIZE if suggested is None else suggested
    part_size = max(MIN_PART_SIZE, min(MAX_PART_SIZE, part_size), -(-size // MAX_PARTS))
    return part_size, -(-size // part_size)


def last_possible_part(size):
    """The highest part number a file of `size` bytes can need, whatever part size it was given."""
    return min(MAX_PARTS, -(-size // MIN_PART_SIZE))


def parse_initiate(body):
    """`POST /v1/multipart/uploads`: the ticket request (the same rules as /v1/uploads) and the partSize hint."""
    request = tickets.parse_ticket_request(body, extra_fields=("partSize",))
    suggested = body.get("partSize")
    if suggested is not None and not _whole(suggested, 1):
        raise RequestError("bad_request", "partSize must be a whole number of bytes")
    return request, suggested


def parse_upload(body, config, user_id, extra_fields=()):
    """`{key, uploadId}` of a multipart upload issued to `user_id`: 400 when malformed, 403 when not theirs."""
    if not isinstance(body, dict):
        raise RequestError("bad_request", "the body must be a JSON object")
    unknown = sorted(set(body) - {"key", "uploadId"} - set(extra_fields))
    if unknown:
        raise RequestError("bad_request", "unknown field: %s" % ", ".join(unknown)[:200])
    key, upload_id = body.get("key"), body.get("uploadId")
    if not isinstance(key, str) or not key or len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise RequestError("bad_request", "key must be the object key the upload was started with")
    if not isinstance(upload_id, str) or not _UPLOAD_ID_RE.fullmatch(upload_id):
        raise RequestError("bad_request", "uploadId must be the uploadId the upload was started with")
    issued = keys.multipart_key_parts(config.upload_prefix, user_id, key)
    if issued is None:
        raise OssgateError("forbidden", "this key is not a multipart upload issued to you")
    return Upload(key, upload_id, issued[0], issued[1])


def parse_part_numbers(value):
    """At most 100 distinct part numbers from 1 to 10,000."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_URLS:
        raise RequestError("bad_request", "partNumbers must be a list of at most %d part numbers" % MAX_URLS)
    for number in value:
        if not _whole(number, 1) or number > MAX_PARTS:
            raise RequestError("bad_request", "part numbers are whole numbers from 1 to %d" % MAX_PARTS)
    if len(set(value)) != len(value):
        raise RequestError("bad_request", "partNumbers lists a part more than once")
    return value


def part_urls(config, credentials, key, upload_id, numbers, now, expires):
    """Presigned UploadPart URLs (query-signed PUT, V4), valid `expires` seconds from `now` (whole seconds)."""
    base = "%s/%s?" % (config.upload_host, signer.uri_encode(key, keep_slash=True))
    headers = {"Content-Type": PART_CONTENT_TYPE}
    answer = []
    for number in numbers:
        query = signer.presigned_query(
            credentials.access_key_id, credentials.access_key_secret, credentials.security_token, config.region,
            now, expires, "PUT", config.bucket, key, (("partNumber", str(number)), ("uploadId", upload_id)), headers)
        answer.append({"partNumber": number, "url": base + signer.encode_query(query), "method": "PUT",
                       "headers": dict(headers)})
    return answer


def _lifetime(config, profile, credentials, now):
    """(whole-second now, expiration, seconds) for part URLs: the profile's ttl, capped by the credentials."""
    now = now.replace(microsecond=0)
    expiration = tickets.expiration_for(now, profile.ttl or config.ticket_ttl, credentials)
    return now, expiration, int((expiration - now).total_seconds())


def initiate(config, credentials, user_id, request, suggested_part_size, now, random_id, oss, admit=None):
    """Checks as for /v1/uploads, then one InitiateMultipartUpload; `oss()` gives the OSS client.

    `admit()`, when given, runs once every check has passed and before OSS is asked (quotas count the ticket
    there, so that neither a refused request nor a refused quota leaves an upload on OSS)."""
    profile = tickets.allowed_profile(config, request)
    now, expiration, expires = _lifetime(config, profile, credentials, now)
    part_size, part_count = part_plan(request.size, suggested_part_size)
    key = tickets.new_key(config, user_id, profile, request, now, keys.sized_id(random_id, request.size))
    if admit is not None:
        admit()
    upload_id = oss().initiate_multipart(key, request.content_type or tickets.DEFAULT_CONTENT_TYPE,
                                         tickets.stored_disposition(profile, key))
    return {
        "key": key,
        "uploadId": upload_id,
        "partSize": part_size,
        "partCount": part_count,
        "maxSize": profile.max_size,
        "expiresAt": tickets.iso_utc(expiration),
        "parts": part_urls(config, credentials, key, upload_id, range(1, min(part_count, MAX_URLS) + 1),
                           now, expires),
    }


def parse_parts_request(body, config, user_id):
    """`POST /v1/multipart/parts`: (upload, part numbers, listUploaded, uploadedAfter)."""
    upload = parse_upload(body, config, user_id, ("partNumbers", "listUploaded", "uploadedAfter"))
    numbers = parse_part_numbers(body.get("partNumbers"))
    last = last_possible_part(upload.declared_size)
    beyond = [n for n in numbers if n > last]
    if beyond:
        raise RequestError("bad_request", "part %d is beyond the last part a file of %d bytes can have (%d)"
                           % (beyond[0], upload.declared_size, last))
    list_uploaded = body.get("listUploaded", False)
    if not isinstance(list_uploaded, bool):
        raise RequestError("bad_request", "listUploaded must be true or false")
    after = body.get("uploadedAfter", 0)
    if not _whole(after, 0) or after > MAX_PARTS:
        raise RequestError("bad_request", "uploadedAfter must be a part number (0 to list from the first part)")
    return upload, numbers, list_uploaded, after


def fresh_parts(config, credentials, upload, numbers, list_uploaded, uploaded_after, now, oss):
    """Fresh part URLs and, with `list_uploaded`, one ListParts page (1,000 parts) of what OSS holds.

    When OSS holds more, the answer's `nextUploadedAfter` is the `uploadedAfter` that asks for the next page."""
    profile = tickets.choose_profile(config, upload.profile)
    now, expiration, expires = _lifetime(config, profile, credentials, now)
    answer = {"parts": part_urls(config, credentials, upload.key, upload.upload_id, numbers, now, expires)}
    if list_uploaded:
        held, next_after = oss().list_parts_page(upload.key, upload.upload_id, uploaded_after)
        answer["uploaded"] = [{"partNumber": n, "size": size, "etag": etag} for n, size, etag in held]
        if next_after is not None:
            answer["nextUploadedAfter"] = next_after
    answer["expiresAt"] = tickets.iso_utc(expiration)
    return answer


def all_parts(oss, key, upload_id):
    """Every part OSS holds, [(number, size, etag)] ascending: one ListParts request per 1,000 parts."""
    parts, after = [], 0
    for _ in range(MAX_PARTS // 1000 + 1):
        page, next_after = oss.list_parts_page(key, upload_id, after)
        parts.extend(page)
        if next_after is None:
            return sorted(parts)
        if next_after <= after:
            break
        after = next_after
    raise OssgateError("upstream_error", "OSS's part listing did not come to an end")


def _numbers(numbers):
    shown = ", ".join(str(n) for n in numbers[:MAX_NAMED_MISSING])
    return shown + (" and %d more" % (len(numbers) - MAX_NAMED_MISSING) if len(numbers) > MAX_NAMED_MISSING else "")


def check_complete(parts, declared_size):
    """Raise incomplete_upload (400) unless `parts` are 1..n with no gap and add up to the declared size."""
    held = set(n for n, _, _ in parts)
    highest = max(held) if held else 0
    missing = [n for n in range(1, highest + 1) if n not in held] or ([] if held else [1])
    if missing:
        raise OssgateError("incomplete_upload", "missing parts: %s; send them, then complete again" % _numbers(missing))
    total = sum(size for _, size, _ in parts)
    if total < declared_size:
        part_size = parts[0][1]
        expected = -(-declared_size // part_size)
        hint = ("; missing parts: %s" % _numbers(list(range(highest + 1, expected + 1)))) if expected > highest else ""
        raise OssgateError("incomplete_upload", "the parts hold %d of the %d bytes declared%s"
                           % (total, declared_size, hint))


def complete(config, upload, oss, callback=None):
    """List every part, check the total against the limits (413 and abort above them), check 1..n, then one
    CompleteMultipartUpload of OSS's own part list. `callback`: the x-oss-callback value, when configured."""
    profile = tickets.choose_profile(config, upload.profile)
    try:
        parts = all_parts(oss, upload.key, upload.upload_id)
    except OssgateError as exc:
        if exc.code == "no_such_upload" and oss.stored_size(upload.key) == upload.declared_size:
            return {"key": upload.key, "size": upload.declared_size}  # completed earlier; its answer was lost
        raise
    total = sum(size for _, size, _ in parts)
    limit = min(upload.declared_size, profile.max_size)
    if total > limit:
        try:
            oss.abort_multipart(upload.key, upload.upload_id)
        except OssgateError as exc:
            if exc.code != "no_such_upload":  # gone already is fine; anything else: the client retries
                raise
        what = ("the %d bytes declared when it started" % limit if limit == upload.declared_size
                else "profile %r's maxSize of %d bytes" % (profile.name, limit))
        raise TicketError("file_too_large", "the parts hold %d bytes, more than %s; the upload was aborted"
                          % (total, what))
    check_complete(parts, upload.declared_size)
    etag, body = oss.complete_multipart(upload.key, upload.upload_id, [(n, e) for n, _, e in parts], callback)
    answer = {"key": upload.key, "size": total, "etag": etag}
    if callback:
        data = _callback_answer(body)
        if data is not None:
            answer["data"] = data
    return answer


def _callback_answer(body):
    try:
        data = json.loads(body.decode("utf-8")) if body else None
    except (UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def abort(upload, oss):
    oss.abort_multipart(upload.key, upload.upload_id)
    return {"aborted": True}
