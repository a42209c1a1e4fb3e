"""Presigned V4 GET URLs for the caller's own objects (oss2, imported only on this route).

Every URL overrides the stored Content-Disposition (`response-content-disposition`, signed into the URL): an
attachment named after the key's file name or the caller's `filename`, unless the key's profile says `inline`
(config allows that only for profiles of safe types), so no object opens as a page on the bucket's domain.
See OSS API reference, GetObject (the response-content-disposition parameter), and
https://www.rfc-editor.org/rfc/rfc6266.
"""

from datetime import timedelta

from . import keys, mediatypes, tickets
from .errors import RequestError, OssgateError

MAX_KEY_BYTES = 1023
MAX_FILENAME_CHARS = 255


def owned_key(body, config, user_id):
    """The requested key if it is the caller's: exactly under `<prefix><userId>/`, no `..`, no control chars."""
    key = body.get("key") if isinstance(body, dict) else None
    if not isinstance(key, str) or not key or len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise RequestError("bad_request", "key must be an object key string")
    if any(ord(c) < 32 or c == "\x7f" for c in key) or "\\" in key:
        raise RequestError("bad_request", "key contains characters an object key cannot have")
    own = keys.user_prefix(config.upload_prefix, user_id)
    if not key.startswith(own) or any(part in ("", ".", "..") for part in key[len(own):].split("/")):
        raise OssgateError("forbidden", "you can only download your own uploads (keys under %s)" % own)
    return key


def disposition(body, config, user_id, key):
    """The `response-content-disposition` for an owned key: `inline` for an inline profile's object, else an
    attachment named by the body's optional `filename` (a file name, not a path) or the key's own."""
    own = keys.user_prefix(config.upload_prefix, user_id)
    profile = config.profiles.get(key[len(own):].split("/", 1)[0])
    if profile is not None and profile.disposition == "inline":
        return mediatypes.content_disposition("", inline=True)
    filename = body.get("filename")
    if filename is None:
        return mediatypes.content_disposition(key.rsplit("/", 1)[-1])
    if not isinstance(filename, str) or not 1 <= len(filename) <= MAX_FILENAME_CHARS:
        raise RequestError("bad_request", "filename must be a file name of 1 to %d characters" % MAX_FILENAME_CHARS)
    if any(ord(c) < 32 or c == "\x7f" or c in "/\\" or 0xD800 <= ord(c) <= 0xDFFF for c in filename):
        raise RequestError("bad_request", "filename must be a plain file name (no path, no control characters)")
    return mediatypes.content_disposition(filename)


def _bucket_endpoint(config):
    """(endpoint, is_cname) for oss2, so that signed URLs use the same host clients upload to."""
    from urllib.parse import urlsplit

    parts = urlsplit(config.upload_host)
    origin = "%s://%s" % (parts.scheme, parts.netloc)
    if parts.path.strip("/") == config.bucket:       # path-style (the local OSS)
        return origin, False
    host = parts.hostname or ""
    if host.startswith(config.bucket + "."):          # <bucket>.<endpoint>
        return "%s://%s" % (parts.scheme, parts.netloc[len(config.bucket) + 1:]), False
    return origin, True                               # a custom bucket domain


def presigned_get(config, credentials, key, now, content_disposition=None):
    now = now.replace(microsecond=0)
    expiration = tickets.expiration_for(now, config.download_ttl, credentials)
    ttl = int((expiration - now).total_seconds())
    url = sign_get(config, credentials, key, ttl, content_disposition)
    return {"url": url, "expiresAt": tickets.iso_utc(now + timedelta(seconds=ttl))}


def sign_get(config, credentials, key, ttl_seconds, content_disposition=None):
    """A V4 presigned GET for `key` on the host clients upload to, valid `ttl_seconds`."""
    import oss2

    auth = oss2.ProviderAuthV4(oss2.credentials.StaticCredentialsProvider(
        credentials.access_key_id, credentials.access_key_secret, credentials.security_token))
    endpoint, is_cname = _bucket_endpoint(config)
    bucket = oss2.Bucket(auth, endpoint, config.bucket, is_cname=is_cname, region=config.region)
    params = {"response-content-disposition": content_disposition} if content_disposition else None
    return bucket.sign_url("GET", key, ttl_seconds, slash_safe=True, params=params)
