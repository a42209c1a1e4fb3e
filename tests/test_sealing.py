"""Sealed values (AES-256-GCM under an HKDF-derived key), checked against the `cryptography` package's own
HKDF (RFC 5869) and AESGCM: an implementation independent of the function's pycryptodome code."""

import base64

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ossgate import sealing

SECRET = b"k" * 32
OLD_SECRET = b"o" * 40
CONTEXT = b"ossgate-openid\0wx1\0u123"


def independent_key(secret):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"ossgate-seal-salt-v1",
                info=b"ossgate sealed value v1 aes-256-gcm").derive(secret)


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_sealing_matches_hkdf_and_aes_gcm_computed_independently():
    nonce = bytes(range(12))
    sealed = sealing.seal([SECRET], "o-openid-123", CONTEXT, nonce=nonce)
    expected = b"\x01" + nonce + AESGCM(independent_key(SECRET)).encrypt(nonce, b"o-openid-123", b"\x01" + CONTEXT)
    assert unb64(sealed) == expected


def test_a_value_sealed_independently_opens():
    nonce = b"\xff" * 12
    raw = b"\x01" + nonce + AESGCM(independent_key(SECRET)).encrypt(nonce, "ouser-é".encode(), b"\x01" + CONTEXT)
    assert sealing.open_sealed([SECRET], base64.urlsafe_b64encode(raw).rstrip(b"=").decode(), CONTEXT) == "ouser-é"


def test_round_trip_rotation_and_fresh_nonces():
    first = sealing.seal([OLD_SECRET], "openid", CONTEXT)
    assert sealing.open_sealed([SECRET, OLD_SECRET], first, CONTEXT) == "openid"
    assert sealing.seal([SECRET], "openid", CONTEXT) != sealing.seal([SECRET], "openid", CONTEXT)
    with pytest.raises(sealing.SealError):
        sealing.open_sealed([SECRET], first, CONTEXT)  # the secret that sealed it was retired


def test_other_context_tampering_and_garbage_are_refused():
    sealed = sealing.seal([SECRET], "openid", CONTEXT)
    with pytest.raises(sealing.SealError):
        sealing.open_sealed([SECRET], sealed, CONTEXT + b"x")
    raw = bytearray(unb64(sealed))
    for index in (0, 5, 14, len(raw) - 1):
        flipped = bytearray(raw)
        flipped[index] ^= 1
        with pytest.raises(sealing.SealError):
            sealing.open_sealed([SECRET], base64.urlsafe_b64encode(bytes(flipped)).rstrip(b"=").decode(), CONTEXT)
    for garbage in (None, "", "!!!", "AAAA", "x" * 600, sealed + "A", sealed[:-1]):
        with pytest.raises(sealing.SealError):
            sealing.open_sealed([SECRET], garbage, CONTEXT)


def test_the_seal_key_is_not_the_session_secret():
    assert sealing.derive_key(SECRET) not in (SECRET, SECRET[:32])
