"""Sealed values: small secrets (the uploader's openid) that travel through the client encrypted and
authenticated, so the client can carry them but neither read nor alter them.

AES-256-GCM (pycryptodome, which oss2 brings; imported only when a value is sealed or opened). The key is derived
from a SESSION_SECRETS entry with HKDF-SHA256 (RFC 5869) under its own label, so it is never the key that MACs
session tokens. The first secret seals; every secret opens (rotation). `context` is authenticated but not
stored: a value sealed for one user (or one purpose) does not open for another.

Format: base64url(version byte 1 | 12-byte random nonce | ciphertext | 16-byte tag), unpadded.
"""

import base64
import functools
import hashlib
import hmac
import os

VERSION = b"\x01"
NONCE_BYTES = 12
TAG_BYTES = 16
MAX_SEALED_CHARS = 512
_SALT = b"ossgate-seal-salt-v1"
_INFO = b"ossgate sealed value v1 aes-256-gcm"


class SealError(ValueError):
    """A sealed value that is malformed, altered, sealed for another context or under an unknown secret."""


@functools.lru_cache(maxsize=16)
def derive_key(secret):
    """HKDF-SHA256 (RFC 5869) of one session secret: 32 bytes for AES-256."""
    prk = hmac.new(_SALT, secret, hashlib.sha256).digest()
    return hmac.new(prk, _INFO + b"\x01", hashlib.sha256).digest()


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def seal(secrets, plaintext, context, nonce=None):
    """Encrypt `plaintext` (str) under the first secret, bound to `context` (bytes)."""
    from Crypto.Cipher import AES

    nonce = nonce or os.urandom(NONCE_BYTES)
    cipher = AES.new(derive_key(secrets[0]), AES.MODE_GCM, nonce=nonce, mac_len=TAG_BYTES)
    cipher.update(VERSION + context)
    ciphertext, tag = cipher.encrypt_and_digest(plaintext.encode("utf-8"))
    return _b64(VERSION + nonce + ciphertext + tag)


def open_sealed(secrets, sealed, context):
    """The plaintext of a value `seal` made with any of `secrets` for this `context`; SealError otherwise."""
    if not isinstance(sealed, str) or not 0 < len(sealed) <= MAX_SEALED_CHARS:
        raise SealError("not a sealed value")
    try:
        raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
    except ValueError:
        raise SealError("not a sealed value")
    if len(raw) < 1 + NONCE_BYTES + TAG_BYTES or raw[:1] != VERSION or _b64(raw) != sealed:
        raise SealError("not a sealed value")
    from Crypto.Cipher import AES

    nonce, body, tag = raw[1:1 + NONCE_BYTES], raw[1 + NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    for secret in secrets:
        cipher = AES.new(derive_key(secret), AES.MODE_GCM, nonce=nonce, mac_len=TAG_BYTES)
        cipher.update(VERSION + context)
        try:
            plaintext = cipher.decrypt_and_verify(body, tag)
        except ValueError:
            continue
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:
            raise SealError("not a sealed value")
    raise SealError("the sealed value does not open with any session secret")
