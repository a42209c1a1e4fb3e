"""WeChat message push: the server-URL check and the `wxa_media_check` events, verified before anything is done.

Mini Program message push, JSON data format
(https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html):
- every request carries `signature` = sha1 hex of the sorted concatenation of Token, `timestamp`, `nonce`;
- safe mode (WECHAT_PUSH_AES_KEY set) adds `msg_signature` = sha1 of Token, timestamp, nonce and the body's
  `Encrypt`, sorted; `Encrypt` is AES-256-CBC (key = base64(EncodingAESKey + "="), IV = its first 16 bytes) of
  16 random bytes + 4-byte big-endian length + message + appid, PKCS#7-padded to 32-byte blocks.
Plaintext mode signs only the query, not the body; with an AES key set, plaintext pushes are refused.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re

from .errors import OssgateError

# A push signed longer ago than this (or this far in the future) is refused: its signature may have leaked.
MAX_PUSH_AGE_SECONDS = 900
MAX_ENCRYPTED_CHARS = 64 * 1024
_DIGITS_RE = re.compile(r"^\d{1,12}$")
_NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class PushError(OssgateError):
    def __init__(self, message):
        super().__init__("invalid_push_signature", message)


def signature(*parts):
    """sha1 hex of the parts sorted (as strings) and concatenated: WeChat's `signature` and `msg_signature`."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def _same(expected, given):
    return hmac.compare_digest(expected.encode("ascii"), (given or "").encode("utf-8", "replace"))


def verify_query(token, query, now_epoch):
    """Checks `signature` over Token, timestamp, nonce and the timestamp's freshness; PushError otherwise."""
    timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
    if not _DIGITS_RE.fullmatch(timestamp) or not _NONCE_RE.fullmatch(nonce):
        raise PushError("the push has no valid timestamp and nonce")
    if not _same(signature(token, timestamp, nonce), query.get("signature")):
        raise PushError("the push signature does not verify")
    if abs(now_epoch - int(timestamp)) > MAX_PUSH_AGE_SECONDS:
        raise PushError("the push timestamp is too old or in the future")


def echo(config, query, now_epoch):
    """The server-URL check (GET): the `echostr` to answer, once the signature verifies."""
    verify_query(config.wechat_push_token, query, now_epoch)
    echostr = query.get("echostr", "")
    if not echostr or len(echostr) > 256:
        raise PushError("the URL check carries no echostr")
    return echostr


def aes_key(encoding_aes_key):
    return base64.b64decode(encoding_aes_key + "=")


def decrypt(encoding_aes_key, encrypted, appid):
    """The message inside a safe-mode `Encrypt`, after checking its padding, length and trailing appid."""
    from Crypto.Cipher import AES  # pycryptodome, which oss2 brings

    try:
        data = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError):
        raise PushError("the encrypted push is not base64")
    if not data or len(data) % 32:
        raise PushError("the encrypted push is not whole AES blocks")
    key = aes_key(encoding_aes_key)
    plain = AES.new(key, AES.MODE_CBC, iv=key[:16]).decrypt(data)
    pad = plain[-1]
    if not 1 <= pad <= 32 or plain[-pad:] != bytes([pad]) * pad:
        raise PushError("the encrypted push does not decrypt (wrong EncodingAESKey?)")
    plain = plain[:-pad]
    if len(plain) < 20:
        raise PushError("the encrypted push is too short")
    length = int.from_bytes(plain[16:20], "big")
    message, trailing_appid = plain[20:20 + length], plain[20 + length:]
    if len(message) != length or not hmac.compare_digest(trailing_appid, appid.encode("utf-8")):
        raise PushError("the encrypted push is for another app")
    return message


def _json_object(raw, what):
    try:
        data = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise PushError("the %s is not JSON" % what)
    if not isinstance(data, dict):
        raise PushError("the %s is not a JSON object" % what)
    return data


def read_event(config, query, body, now_epoch):
    """The push's event (a dict), verified: signature, and in safe mode msg_signature, decryption and appid."""
    token = config.wechat_push_token
    verify_query(token, query, now_epoch)
    if len(body) > MAX_ENCRYPTED_CHARS:
        raise PushError("the push body is too large")
    if config.wechat_push_aes_key:
        if query.get("encrypt_type") != "aes":
            raise PushError("this deployment accepts only safe-mode (encrypted) pushes")
        envelope = _json_object(body, "push body")
        encrypted = envelope.get("Encrypt")
        if not isinstance(encrypted, str) or not encrypted:
            raise PushError("the safe-mode push has no Encrypt field")
        if not _same(signature(token, query["timestamp"], query["nonce"], encrypted), query.get("msg_signature")):
            raise PushError("the push msg_signature does not verify")
        event = _json_object(decrypt(config.wechat_push_aes_key, encrypted, config.wechat_appid), "decrypted push")
        if "appid" in event and event.get("appid") != config.wechat_appid:
            raise PushError("the push is for another app")
        return event
    event = _json_object(body, "push body")
    if not isinstance(event.get("appid"), str) or not _same(config.wechat_appid, event["appid"]):
        raise PushError("the push is for another app")
    return event
