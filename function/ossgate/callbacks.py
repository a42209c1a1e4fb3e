"""OSS upload callbacks: what tickets ask OSS to send, and verifying what arrives
(https://www.alibabacloud.com/help/en/oss/developer-reference/callback).

OSS signs `url_decode(path) + query + "\\n" + body` with RSA (MD5withRSA, PKCS#1 v1.5). The public key is
the pinned OSS_CALLBACK_PUBLIC_KEY, or one fetched from the URL in `x-oss-pub-key-url` only when that URL
starts exactly with OSS's key host; anything else is refused before any network I/O.
"""

import base64
import binascii
import functools
import json
import threading

from .errors import OssgateError

KEY_HOST_PREFIXES = ("http://gosspublic.alicdn.com/", "https://gosspublic.alicdn.com/")
FETCH_TIMEOUT_SECONDS = 2.0
MAX_KEY_BYTES = 16 * 1024
# JSON body; OSS substitutes each variable with its JSON value.
CALLBACK_BODY = ('{"bucket":${bucket},"object":${object},"etag":${etag},"size":${size},'
                 '"mimeType":${mimeType},"height":${imageInfo.height},"width":${imageInfo.width}}')


class CallbackError(OssgateError):
    def __init__(self, message):
        super().__init__("invalid_callback_signature", message)


@functools.lru_cache(maxsize=4)
def callback_field(callback_url):
    """The `callback` form field (pinned in the policy): base64 of the callback JSON."""
    spec = {"callbackUrl": callback_url, "callbackBody": CALLBACK_BODY, "callbackBodyType": "application/json"}
    return base64.b64encode(json.dumps(spec, separators=(",", ":")).encode("utf-8")).decode("ascii")


def _b64(value, what):
    try:
        return base64.b64decode((value or "").strip(), validate=True)
    except (binascii.Error, ValueError):
        raise CallbackError("the callback's %s is not base64" % what)


def public_key_url(header_value):
    """The key URL from `x-oss-pub-key-url`, only if it is on OSS's key host (checked as an exact prefix)."""
    raw = _b64(header_value, "x-oss-pub-key-url")
    try:
        url = raw.decode("ascii")
    except UnicodeDecodeError:
        raise CallbackError("the callback's public key URL is not ASCII")
    if not url.startswith(KEY_HOST_PREFIXES) or any(c in url for c in "\r\n\t @\\"):
        raise CallbackError("the callback's public key URL is not on gosspublic.alicdn.com")
    return url


def signed_message(path, query, body):
    """What OSS signs: the URL-decoded path, the raw query (with its '?', or empty), a newline, the body."""
    from urllib.parse import unquote  # the ticket path imports this module too (callback_field): keep it light

    return unquote(path).encode("utf-8") + query.encode("utf-8") + b"\n" + body


def signature_valid(public_key_pem, message, signature):
    """MD5withRSA (PKCS#1 v1.5). pycryptodome (an oss2 dependency) is imported only on this route."""
    from Crypto.Hash import MD5
    from Crypto.PublicKey import RSA
    from Crypto.Signature import pkcs1_15

    try:
        pkcs1_15.new(RSA.import_key(public_key_pem)).verify(MD5.new(message), signature)
        return True
    except (ValueError, TypeError, IndexError):
        return False


def fetch_key(url, timeout=FETCH_TIMEOUT_SECONDS):
    """GET the PEM at `url`: one request, no redirects, a short timeout, a size cap."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_type(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("GET", parts.path or "/")
        answer = connection.getresponse()
        if answer.status != 200:
            raise OSError("public key fetch answered %d" % answer.status)
        return answer.read(MAX_KEY_BYTES).decode("ascii")
    finally:
        connection.close()


class PublicKeyCache:
    """Keys fetched from OSS's key host, kept for the life of the instance."""

    def __init__(self, fetch=fetch_key):
        self._fetch = fetch
        self._keys = {}
        self._lock = threading.Lock()

    def get(self, url):
        with self._lock:
            if url not in self._keys:
                try:
                    self._keys[url] = self._fetch(url)
                except (OSError, ValueError, UnicodeDecodeError):
                    raise CallbackError("could not fetch OSS's callback public key")
            return self._keys[url]


def callback_query(callback_url):
    """OSS calls exactly the configured callbackUrl, so its query (if any) is what was signed."""
    from urllib.parse import urlsplit

    query = urlsplit(callback_url or "").query
    return "?" + query if query else ""


def verify(request, config, key_cache):
    """Raises CallbackError (403) unless the request is signed by OSS."""
    signature = _b64(request.header("authorization"), "authorization")
    if not signature:
        raise CallbackError("the callback carries no signature")
    if config.callback_public_key:
        public_key = config.callback_public_key
    else:
        public_key = key_cache.get(public_key_url(request.header("x-oss-pub-key-url")))
    message = signed_message(request.raw_path, callback_query(config.callback_url), request.body)
    if not signature_valid(public_key, message, signature):
        raise CallbackError("the callback's signature does not verify")


def _dimension(value):
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def answer(body, config):
    """The JSON OSS relays to the uploader: what was stored, from the verified callback body."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise OssgateError("bad_request", "the callback body is not JSON")
    if not isinstance(data, dict) or data.get("bucket") != config.bucket:
        raise OssgateError("bad_request", "the callback is for another bucket")
    key = data.get("object")
    if not isinstance(key, str) or not key.startswith(config.upload_prefix):
        raise OssgateError("bad_request", "the callback names an object outside the upload prefix")
    size = data.get("size")
    size = int(size) if isinstance(size, str) and size.isdigit() else size
    result = {"key": key, "size": size, "etag": str(data.get("etag", "")).strip('"'),
              "mimeType": data.get("mimeType")}
    for name in ("width", "height"):
        value = _dimension(data.get(name))
        if value is not None:
            result[name] = value
    return result
