"""OSS upload callbacks: what tickets ask OSS to send, and verifying what arrives
(https://www.alibabacloud.com/help/en/oss/developer-reference/callback).

Two checks, both required. OSS signs `url_decode(path) + query + "\\n" + body` with RSA (MD5withRSA,
PKCS#1 v1.5): the public key is the pinned OSS_CALLBACK_PUBLIC_KEY, or the one at OSS's documented key URL
(https://gosspublic.alicdn.com/callback_pub_key_v1.pem, fetched over HTTPS only, once per instance); any other
`x-oss-pub-key-url` is refused before any network I/O. But OSS signs every callback of every bucket with that
one key, so the signature only says "from OSS". The body each ticket pins therefore carries a MAC of bucket +
key (HMAC-SHA256 keyed by SESSION_SECRETS): a callback is answered only for the very object a ticket of ours
named (https://help.aliyun.com/document_detail/31853.html).
"""

import base64
import binascii
import hmac
import json
import threading
import time

from . import jsontext
from .errors import OssgateError

KEY_URL = "https://gosspublic.alicdn.com/callback_pub_key_v1.pem"
_KEY_HOST = "gosspublic.alicdn.com"
_KEY_PATH = "/callback_pub_key_v1.pem"
FETCH_TIMEOUT_SECONDS = 2.0
# After a failed fetch, requests are refused without fetching again for this long (no fetch storm).
FETCH_RETRY_SECONDS = 30.0
MAX_KEY_BYTES = 16 * 1024
# OSS substitutes each variable with its JSON value (callbackBodyType application/json).
SYSTEM_VARIABLES = ('"bucket":${bucket},"object":${object},"etag":${etag},"size":${size},'
                    '"mimeType":${mimeType},"height":${imageInfo.height},"width":${imageInfo.width}')
MAC_FIELD = "mac"
_MAC_CONTEXT = b"ossgate-callback-v1"
# One encoder (json.dumps with options builds a new one per call): this runs for every ticket.
_encode_compact = json.JSONEncoder(separators=(",", ":")).encode


class CallbackError(OssgateError):
    def __init__(self, message):
        super().__init__("invalid_callback_signature", message)


def object_mac(secret, bucket, key):
    """HMAC-SHA256 (hex) binding a callback to one object of one bucket."""
    message = b"\0".join((_MAC_CONTEXT, bucket.encode("utf-8", "surrogatepass"), key.encode("utf-8", "surrogatepass")))
    return hmac.digest(secret, message, "sha256").hex()


def callback_body(constants):
    """The callbackBody template: OSS's variables, then `constants` ({name: string}) as fixed JSON members.

    Constants are the server's own words about the ticket (the MAC; other modules may add theirs, e.g. a sealed
    field); they must not contain `${`, which OSS would substitute."""
    members = "".join(",%s:%s" % (_encode_compact(name), _encode_compact(value)) for name, value in constants.items())
    if "${" in members:
        raise ValueError("a callback constant must not contain ${")
    return "{" + SYSTEM_VARIABLES + members + "}"


def callback_field(callback_url, body):
    """The `callback` form field (pinned in the policy): base64 of the callback JSON."""
    spec = {"callbackUrl": callback_url, "callbackBody": body, "callbackBodyType": "application/json"}
    return base64.b64encode(_encode_compact(spec).encode("utf-8")).decode("ascii")


def ticket_callback_field(config, key, extra_constants=None):
    """The `callback` field of the ticket for `key`: its body carries the MAC of bucket + key, keyed by the
    first SESSION_SECRETS entry (config requires SESSION_SECRETS whenever CALLBACK_URL is set)."""
    constants = {MAC_FIELD: object_mac(config.session_secrets[0], config.bucket, key)}
    constants.update(extra_constants or {})
    return callback_field(config.callback_url, callback_body(constants))


def _b64(value, what):
    try:
        return base64.b64decode((value or "").strip(), validate=True)
    except (binascii.Error, ValueError):
        raise CallbackError("the callback's %s is not base64" % what)


def public_key_url(header_value):
    """KEY_URL when `x-oss-pub-key-url` names it (scheme and host in any case, an explicit :443 allowed);
    anything else (another path, a query, a fragment, user info, plain HTTP, control characters) is refused."""
    from urllib.parse import urlsplit

    raw = _b64(header_value, "x-oss-pub-key-url")
    if not raw or any(byte <= 0x20 or byte >= 0x7F for byte in raw) or b"?" in raw or b"#" in raw:
        raise CallbackError("the callback's public key URL is not OSS's documented key URL")
    parts = urlsplit(raw.decode("ascii"))
    try:
        port = parts.port
    except ValueError:
        port = -1
    if (parts.scheme.lower() != "https" or parts.hostname != _KEY_HOST or "@" in parts.netloc
            or port not in (None, 443) or parts.path != _KEY_PATH):
        raise CallbackError("the callback's public key URL is not OSS's documented key URL")
    return KEY_URL


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
    """GET the PEM at an https `url`: one request, no redirects, a short timeout, a size cap."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme != "https":
        raise ValueError("the callback public key is fetched over HTTPS only")
    connection = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("GET", parts.path or "/")
        answer = connection.getresponse()
        if answer.status != 200:
            raise OSError("public key fetch answered %d" % answer.status)
        return answer.read(MAX_KEY_BYTES).decode("ascii")
    finally:
        connection.close()


class PublicKeyCache:
    """The key at KEY_URL, fetched once per instance: one entry at most, one fetch in flight at most (the lock
    is held while fetching), and after a failure no new fetch for FETCH_RETRY_SECONDS."""

    def __init__(self, fetch=fetch_key, clock=time.monotonic):
        self._fetch = fetch
        self._clock = clock
        self._keys = {}
        self._failed_at = None
        self._lock = threading.Lock()

    def __len__(self):
        return len(self._keys)

    def get(self, url):
        if url != KEY_URL:
            raise CallbackError("the callback's public key URL is not OSS's documented key URL")
        with self._lock:
            if url in self._keys:
                return self._keys[url]
            if self._failed_at is not None and self._clock() - self._failed_at < FETCH_RETRY_SECONDS:
                raise CallbackError("could not fetch OSS's callback public key; retry later")
            try:
                self._keys[url] = self._fetch(url)
            except (OSError, ValueError, UnicodeDecodeError):
                self._failed_at = self._clock()
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


def _count(value):
    """A non-negative whole number from an int or a string of ASCII digits, else None."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def parse_body(body):
    """The callback body as a JSON object; 400 when it is not one."""
    try:
        data = jsontext.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise OssgateError("bad_request", "the callback body is not JSON")
    if not isinstance(data, dict):
        raise OssgateError("bad_request", "the callback body is not a JSON object")
    return data


def check_ticket_mac(data, config):
    """CallbackError (403) unless the body's MAC is the one a ticket of ours pinned for this bucket + object;
    every SESSION_SECRETS entry is tried, so tickets issued before a rotation still verify."""
    given, bucket, key = data.get(MAC_FIELD), data.get("bucket"), data.get("object")
    if not isinstance(given, str) or not isinstance(bucket, str) or not isinstance(key, str):
        raise CallbackError("the callback was not pinned by a ticket of this function")
    given = given.encode("utf-8", "surrogatepass")
    if not any(hmac.compare_digest(object_mac(secret, bucket, key).encode("ascii"), given)
               for secret in config.session_secrets):
        raise CallbackError("the callback was not pinned by a ticket of this function for this object")


def answer(body, config):
    """The JSON OSS relays to the uploader: what was stored, from the verified callback body."""
    data = parse_body(body)
    if data.get("bucket") != config.bucket:
        raise OssgateError("bad_request", "the callback is for another bucket")
    key = data.get("object")
    if not isinstance(key, str) or not key.startswith(config.upload_prefix):
        raise OssgateError("bad_request", "the callback names an object outside the upload prefix")
    check_ticket_mac(data, config)
    size = _count(data.get("size"))
    result = {"key": key, "size": size, "etag": str(data.get("etag", "")).strip('"'),
              "mimeType": data.get("mimeType")}
    for name in ("width", "height"):
        value = _count(data.get(name))
        if value is not None:
            result[name] = value
    return result
