"""The function's own requests to OSS, through the official SDK (oss2, V4, imported on the routes that call OSS).

One small wrapper so every feature that talks to OSS (multipart uploads; moderation's tagging, copy and delete)
gets the same things: the invocation's credentials (with the STS token), `OSS_REGION` and `OSS_ENDPOINT`, short
timeouts, one connection pool per instance, and every OSS failure turned into a contract error code (never a 500).
"""

import functools
from contextlib import contextmanager

from .errors import OssgateError, UpstreamError

# (connect, read) seconds. A ListParts page or an Initiate answers in well under a second; Complete of
# thousands of parts, or with an upload callback (OSS waits up to 5 s for it), takes longer.
TIMEOUT = (2.0, 4.0)
COMPLETE_TIMEOUT = (2.0, 20.0)
LIST_PAGE_SIZE = 1000

# OSS error codes a caller can act on; anything else is OSS (or the function's role) failing: 502.
# https://help.aliyun.com/zh/oss/support/oss-error-codes
_CLIENT_ERRORS = {
    "NoSuchUpload": ("no_such_upload", "there is no such multipart upload (it was completed, aborted or expired)"),
    "FileAlreadyExists": ("already_exists", "an object with this key already exists"),
    "InvalidPart": ("incomplete_upload", "a part changed or vanished while completing; list the parts and retry"),
    "InvalidPartOrder": ("incomplete_upload", "the parts are not in ascending order; list the parts and retry"),
    "EntityTooSmall": ("bad_request", "every part but the last must be at least 100 KB"),
}


class OssCallError(UpstreamError):
    """An OSS request failed; `oss_code` and `request_id` are OSS's (both safe to show)."""

    def __init__(self, code, message, oss_code=None, request_id=None):
        super().__init__(code, message)
        self.oss_code = oss_code
        self.request_id = request_id


@functools.lru_cache(maxsize=1)
def _session():
    """One oss2 (requests) session per instance: warm invocations reuse its connections."""
    import oss2

    return oss2.Session()


def translate(exc, action):
    """An oss2 exception as an OssgateError with a contract code; `action` names what was being done."""
    import oss2

    if isinstance(exc, OssgateError):
        return exc
    if isinstance(exc, oss2.exceptions.RequestError):  # network: refused, reset, timed out
        return OssCallError("upstream_error", "OSS could not be reached to %s; retry shortly" % action)
    if isinstance(exc, oss2.exceptions.OssError):
        oss_code = str(getattr(exc, "code", "") or "")
        request_id = str(getattr(exc, "request_id", "") or "") or None
        known = _CLIENT_ERRORS.get(oss_code)
        if known is not None:
            return OssCallError(known[0], known[1], oss_code, request_id)
        return OssCallError("upstream_error", "OSS refused to %s: %s %s (request id %s)"
                            % (action, getattr(exc, "status", "?"), oss_code or "error", request_id or "-"),
                            oss_code, request_id)
    return OssCallError("upstream_error", "OSS answered unexpectedly while trying to %s" % action)


@contextmanager
def _calling(action):
    import oss2

    try:
        yield
    except (oss2.exceptions.OssError, ValueError, TypeError, KeyError, SyntaxError) as exc:  # SyntaxError: bad XML
        raise translate(exc, action) from None


def bucket_for(config, credentials, timeout, session=None):
    """An oss2 Bucket of `config` signed (V4) with `credentials`, over the instance's shared session."""
    import oss2

    auth = oss2.ProviderAuthV4(oss2.credentials.StaticCredentialsProvider(
        credentials.access_key_id, credentials.access_key_secret, credentials.security_token))
    # enable_crc off: the function never holds the bytes whose CRC it could compare.
    return oss2.Bucket(auth, config.endpoint, config.bucket, session=session or _session(),
                       connect_timeout=timeout, region=config.region, enable_crc=False)


class OssClient:
    """The bucket of `config`, signed with `credentials` (V4); methods make exactly one request each."""

    def __init__(self, config, credentials, session=None):
        def bucket(timeout):
            return bucket_for(config, credentials, timeout, session)

        self._bucket = bucket(TIMEOUT)
        self._slow_bucket = bucket(COMPLETE_TIMEOUT)

    def initiate_multipart(self, key, content_type, content_disposition=None):
        """InitiateMultipartUpload with the object's Content-Type (and Content-Disposition) and
        x-oss-forbid-overwrite; the uploadId."""
        headers = {"Content-Type": content_type, "x-oss-forbid-overwrite": "true"}
        if content_disposition:
            headers["Content-Disposition"] = content_disposition
        with _calling("start the upload"):
            return self._bucket.init_multipart_upload(key, headers=headers).upload_id

    def list_parts_page(self, key, upload_id, after=0, max_parts=LIST_PAGE_SIZE):
        """One ListParts page: ([(part number, size, etag)], next marker or None when it was the last page)."""
        with _calling("list the uploaded parts"):
            page = self._bucket.list_parts(key, upload_id, marker=str(after) if after else "", max_parts=max_parts)
        parts = [(int(p.part_number), int(p.size), p.etag) for p in page.parts]
        return parts, (int(page.next_marker) if page.is_truncated else None)

    def complete_multipart(self, key, upload_id, parts, callback=None):
        """CompleteMultipartUpload of `parts` [(number, etag)] with x-oss-forbid-overwrite (and x-oss-callback).

        Returns (etag, body bytes: the callback's answer when a callback was given)."""
        import oss2

        headers = {"x-oss-forbid-overwrite": "true"}
        if callback:
            headers["x-oss-callback"] = callback
        with _calling("complete the upload"):
            result = self._slow_bucket.complete_multipart_upload(
                key, upload_id, [oss2.models.PartInfo(number, etag) for number, etag in parts], headers=headers)
            body = result.resp.read()
        if result.status == 203:  # the object is stored, but OSS's call to the callback URL failed
            raise OssCallError("callback_failed", "the object was stored but its upload callback failed (request id %s)"
                               % (result.request_id or "-"), "CallbackFailed", result.request_id)
        return (result.etag or "").strip('"'), body

    def stored_size(self, key):
        """The object's size, or None when there is no such object (HeadObject)."""
        import oss2

        with _calling("look the object up"):
            try:
                return int(self._bucket.head_object(key).content_length)
            except oss2.exceptions.NotFound:
                return None

    def abort_multipart(self, key, upload_id):
        with _calling("abort the upload"):
            self._bucket.abort_multipart_upload(key, upload_id)
