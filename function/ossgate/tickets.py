"""Upload tickets: what a caller may upload (profile, size, type) and the signed form that allows exactly that.

`upload_ticket` and `seed_signature` are pure over their inputs; the handler supplies config, credentials,
the user, the clock reading and a random id.
"""

import re
from datetime import timedelta

from . import keys, mediatypes, policy
from .errors import CredentialsError, RequestError, TicketError
from .record import REQUIRED, Record

SUCCESS_ACTION_STATUS = "200"
# Pinned when the caller names no type: without a pinned Content-Type a client could store a page as text/html.
DEFAULT_CONTENT_TYPE = "application/octet-stream"
# A ticket is refused rather than issued with less than this left before the credentials expire.
MIN_TICKET_SECONDS = 60
# Signed policies stop this long before their credentials do, so an upload in flight is not cut off.
CREDENTIAL_EXPIRY_MARGIN = timedelta(seconds=60)

# Form fields a ticket holder may add that OSS applies, held to safe values. A `not-in` condition is met when
# the field is absent (OSS: a missing field is not in any list), so clients that never send them are unaffected.
# An object can never be made public (the bucket itself must be private: docs/deploy.md), nor moved to a class
# with minimum storage durations and restore fees. What is pinned outright, or left to the uploader, is listed
# in docs/threat-model.md.
FORBIDDEN_FIELD_VALUES = (
    ["not-in", "$x-oss-object-acl", ["public-read", "public-read-write"]],
    ["not-in", "$x-oss-storage-class", ["IA", "Archive", "ColdArchive", "DeepColdArchive"]],
)

_CONTENT_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$")
_ALLOWED_FIELDS = {"size", "contentType", "filename", "profile"}


class TicketRequest(Record):
    __slots__ = ("size", "profile", "content_type", "filename")
    _fields = (("size", REQUIRED), ("profile", REQUIRED), ("content_type", None), ("filename", None))


def parse_ticket_request(body, extra_fields=()):
    """Validate the JSON body of `POST /v1/uploads`; RequestError (400) naming the bad field.

    `extra_fields`: names another route accepts on top of these (it validates them itself)."""
    if not isinstance(body, dict):
        raise RequestError("bad_request", "the body must be a JSON object")
    unknown = sorted(set(body) - _ALLOWED_FIELDS - set(extra_fields))
    if unknown:
        raise RequestError("bad_request", "unknown field: %s" % ", ".join(unknown)[:200])
    size = body.get("size")
    if size is None:
        raise RequestError("bad_request", "size is required (the file's size in bytes)")
    if not isinstance(size, int) or isinstance(size, bool):
        raise RequestError("bad_request", "size must be a whole number of bytes")
    if size < 1:
        raise RequestError("bad_request", "size must be at least 1 byte: empty files are not uploaded")
    profile = body.get("profile", "default")
    if not isinstance(profile, str) or not profile:
        raise RequestError("bad_request", "profile must be a non-empty string")
    content_type = body.get("contentType")
    if content_type is not None:
        if not isinstance(content_type, str) or not _CONTENT_TYPE_RE.fullmatch(content_type.strip().lower()):
            raise RequestError("bad_request", "contentType must be a media type like image/jpeg")
        content_type = content_type.strip().lower()
    filename = body.get("filename")
    if filename is not None and (not isinstance(filename, str) or len(filename) > 1024):
        raise RequestError("bad_request", "filename must be a string of at most 1024 characters")
    return TicketRequest(size, profile, content_type, filename)


def choose_profile(config, name):
    profile = config.profiles.get(name)
    if profile is None:
        raise TicketError("unknown_profile", "no upload profile named %r" % name[:64])
    return profile


def check_allowed(profile, request):
    if request.size > profile.max_size:
        raise TicketError("file_too_large", "the file is %d bytes; profile %r allows at most %d"
                          % (request.size, profile.name, profile.max_size))
    if request.content_type is not None and mediatypes.is_active(request.content_type) \
            and not profile.allows_type(request.content_type):
        raise TicketError("unsupported_type", "%s is an active type (a browser would run it as a page or script);"
                          " only a profile that lists it exactly accepts it, and %r does not"
                          % (request.content_type, profile.name))
    if profile.restricts_types:
        if request.content_type is None:
            raise TicketError("unsupported_type", "profile %r needs a contentType, one of: %s"
                              % (profile.name, ", ".join(profile.content_types)))
        if not profile.allows_type(request.content_type):
            raise TicketError("unsupported_type", "%s is not allowed by profile %r; allowed: %s"
                              % (request.content_type, profile.name, ", ".join(profile.content_types)))


def allowed_profile(config, request):
    """The profile the request names, once its size and type are allowed by it (404, 413 or 415 otherwise)."""
    profile = choose_profile(config, request.profile)
    check_allowed(profile, request)
    return profile


def new_key(config, user_id, profile, request, now, object_id):
    """The key rules every upload route shares: `<prefix><userId>/<profile>/yyyy/mm/dd/<object id><.ext>`."""
    ext = keys.extension(request.filename, request.content_type)
    return keys.object_key(config.upload_prefix, user_id, profile.name, now, object_id, ext)


def expiration_for(now, ttl_seconds, credentials):
    """now + ttl, never past the credentials' expiry (less a margin); CredentialsError if too little is left."""
    expiration = now + timedelta(seconds=ttl_seconds)
    if credentials.expiration is not None:
        expiration = min(expiration, credentials.expiration - CREDENTIAL_EXPIRY_MARGIN)
        if expiration - now < timedelta(seconds=MIN_TICKET_SECONDS):
            raise CredentialsError("the signing credentials expire too soon to issue a ticket; retry shortly")
    return expiration.replace(microsecond=0)


def stored_disposition(profile, key):
    """The Content-Disposition pinned into the stored object: `attachment` with the key's own file name, or
    `inline` for a profile that says so (config allows that only for safe types)."""
    return mediatypes.content_disposition(key.rsplit("/", 1)[-1], profile.disposition == "inline")


def iso_utc(moment):
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (
        moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def upload_ticket(config, credentials, user_id, request, now, random_id, callback_fields=None):
    """README's `POST /v1/uploads` answer for an already authenticated user.

    `callback_fields`: None, or a function of the chosen key giving the callback form fields to pin."""
    profile = allowed_profile(config, request)
    key = new_key(config, user_id, profile, request, now, random_id)
    expiration = expiration_for(now, profile.ttl or config.ticket_ttl, credentials)

    extra_fields = [("success_action_status", SUCCESS_ACTION_STATUS),
                    ("Content-Type", request.content_type or DEFAULT_CONTENT_TYPE),
                    ("x-oss-forbid-overwrite", "true"),
                    ("Content-Disposition", stored_disposition(profile, key))]
    if callback_fields is not None:
        extra_fields.extend(callback_fields(key).items())

    # With quotas on, bytesPerDay counts declared sizes, so the form may carry no more than the declared size.
    largest = request.size if config.quotas else profile.max_size
    conditions = [{"bucket": config.bucket}, ["eq", "$key", key], ["content-length-range", 1, largest]]
    conditions += [["eq", "$" + name.lower(), value] for name, value in extra_fields]
    conditions += FORBIDDEN_FIELD_VALUES

    signed = policy.signed_form_fields(credentials, config.region, now, expiration, conditions)
    fields = {"key": key}
    fields.update(signed)
    fields.update(extra_fields)
    return {
        "url": config.upload_host,
        "key": key,
        "fields": fields,
        "expiresAt": iso_utc(expiration),
        "maxSize": profile.max_size,
    }


def seed_signature(config, credentials, user_id, now):
    """`GET /generate_signature`: the classic server-signing sample's field names, with the caller's prefix pinned."""
    profile = config.profiles["default"]
    directory = keys.seed_prefix(config.upload_prefix, user_id)
    expiration = expiration_for(now, profile.ttl or config.ticket_ttl, credentials)
    conditions = [
        {"bucket": config.bucket},
        ["starts-with", "$key", directory],
        ["content-length-range", 1, profile.max_size],
        ["eq", "$success_action_status", SUCCESS_ACTION_STATUS],
    ]
    conditions += FORBIDDEN_FIELD_VALUES
    signed = policy.signed_form_fields(credentials, config.region, now, expiration, conditions)
    return {
        "policy": signed["policy"],
        "x_oss_signature_version": signed["x-oss-signature-version"],
        "x_oss_credential": signed["x-oss-credential"],
        "x_oss_date": signed["x-oss-date"],
        "signature": signed["x-oss-signature"],
        "security_token": signed.get("x-oss-security-token"),
        "host": config.upload_host,
        "dir": directory,
        "expire": int(expiration.timestamp()),
    }
