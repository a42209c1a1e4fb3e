"""Object keys are chosen by the server: `<prefix><userId>/<profile>/yyyy/mm/dd/<random id><.ext>`.

The client's filename lends at most a sanitised, lowercase extension; nothing else of it reaches the key.
"""

import re

_EXTENSION_RE = re.compile(r"^[a-z0-9]{1,10}$")

# Used when the filename has no usable extension; a small table, not mimetypes (kept off the cold path).
_EXTENSION_BY_TYPE = {
    "image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp", "image/heic": "heic",
    "image/svg+xml": "svg", "video/mp4": "mp4", "video/quicktime": "mov", "audio/mpeg": "mp3",
    "audio/aac": "aac", "application/pdf": "pdf", "text/plain": "txt", "application/zip": "zip",
}


def extension(filename, content_type=None):
    """The lowercase extension of a client filename (a-z0-9, at most 10 characters), else one for its type."""
    if isinstance(filename, str):
        base = re.split(r"[\\/]", filename)[-1]
        if "." in base.strip("."):
            candidate = base.rsplit(".", 1)[1].lower()
            if _EXTENSION_RE.fullmatch(candidate):
                return candidate
    return _EXTENSION_BY_TYPE.get(content_type or "", "")


def user_prefix(upload_prefix, user_id):
    """Everything the user may write under, with the trailing slash: `<prefix><userId>/`."""
    return "%s%s/" % (upload_prefix, user_id)


# The seed route's directory inside the user's prefix. A profile name cannot start with "_" (config.py), and
# every other route writes only under a profile name, so a seed-route form can never overwrite their objects.
SEED_SEGMENT = "_seed"


def seed_prefix(upload_prefix, user_id):
    """Where `GET /generate_signature` lets the user write: `<prefix><userId>/_seed/`."""
    return "%s%s/" % (user_prefix(upload_prefix, user_id), SEED_SEGMENT)


def object_key(upload_prefix, user_id, profile, now, random_id, ext):
    name = random_id + ("." + ext if ext else "")
    return "%s%s/%04d/%02d/%02d/%s" % (
        user_prefix(upload_prefix, user_id), profile, now.year, now.month, now.day, name)


# --- multipart keys: the declared size rides in the object id ------------------------------------------------
# Complete and abort are handed back only `{key, uploadId}`. The key of a multipart upload carries the size the
# client declared at initiate (`<random id>-<size>`), so complete can refuse a larger total without any state.
# It needs no MAC: only the server initiates multipart uploads (the client holds no credentials, only part URLs
# for one key and uploadId), and OSS binds an uploadId to the key it was initiated for, so a client that edits
# the size in a key names an upload that does not exist (NoSuchUpload).

_MULTIPART_NAME_RE = re.compile(r"^[0-9a-z]{8,64}-([1-9][0-9]{0,11})(\.[a-z0-9]{1,10})?$")
_PROFILE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_DATE_RE = re.compile(r"^[0-9]{4}/[0-9]{2}/[0-9]{2}$")


def sized_id(random_id, size):
    """The object id of a multipart upload: the random id and the declared size."""
    return "%s-%d" % (random_id, size)


def multipart_key_parts(upload_prefix, user_id, key):
    """(profile, declared size) of a multipart key issued to `user_id`, or None if `key` is not one."""
    own = user_prefix(upload_prefix, user_id)
    if not key.startswith(own):
        return None
    segments = key[len(own):].split("/")
    if len(segments) != 5 or not _PROFILE_RE.fullmatch(segments[0]) or not _DATE_RE.fullmatch("/".join(segments[1:4])):
        return None
    match = _MULTIPART_NAME_RE.fullmatch(segments[4])
    if match is None:
        return None
    return segments[0], int(match.group(1))
