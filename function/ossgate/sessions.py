"""Our own session tokens (never WeChat's session_key): `v1.<base64url payload>.<base64url HMAC-SHA256>`.

The first SESSION_SECRETS entry signs; every entry verifies, so secrets can rotate without logging users out.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import time

from .errors import AuthError

VERSION = "v1"
_TOKEN_RE = re.compile(r"^v1\.([A-Za-z0-9_-]{1,1024})\.([A-Za-z0-9_-]{43})$")
_USER_ID_RE = re.compile(r"^[a-z0-9]{8,64}$")


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _canonical_unb64(text):
    """The bytes `text` spells, or None unless `text` is their one canonical unpadded base64url spelling: the
    last character may carry unused low bits, so several strings decode alike; only the one that re-encodes
    to itself is accepted (a token has exactly one valid spelling)."""
    try:
        data = _unb64(text)
    except ValueError:  # binascii.Error: a length no base64 has
        return None
    return data if _b64(data) == text else None


def user_id_for(appid, openid):
    """A stable, opaque userId: it does not reveal the openid and is the same at every login."""
    digest = hashlib.sha256(("ossgate-user-v1\0%s\0%s" % (appid, openid)).encode("utf-8")).hexdigest()
    return "u" + digest[:31]


def _mac(secret, signing_input):
    return hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()


def mint(user_id, secret, audience, now_epoch, ttl_seconds, claims=None):
    """→ (token, expiry epoch seconds). `claims`: extra payload entries (e.g. the sealed openid)."""
    expires = int(now_epoch) + int(ttl_seconds)
    payload = {"sub": user_id, "aud": audience, "iat": int(now_epoch), "exp": expires,
               "jti": os.urandom(9).hex()}  # distinct tokens for every login, even within one second
    payload.update(claims or {})
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    signing_input = "%s.%s" % (VERSION, body)
    return "%s.%s" % (signing_input, _b64(_mac(secret, signing_input))), expires


def verify_payload(token, secrets, audience, now_epoch):
    """The token's payload (its userId is `sub`); AuthError (401) when it is malformed, forged, for another
    app or expired."""
    match = _TOKEN_RE.fullmatch(token or "")
    if not match:
        raise AuthError("the session token is malformed; sign in again")
    signing_input = "%s.%s" % (VERSION, match.group(1))
    given, raw_payload = _canonical_unb64(match.group(2)), _canonical_unb64(match.group(1))
    if given is None or raw_payload is None:
        raise AuthError("the session token is malformed; sign in again")
    if not any(hmac.compare_digest(_mac(secret, signing_input), given) for secret in secrets):
        raise AuthError("the session token is not valid; sign in again")
    try:
        payload = json.loads(raw_payload.decode("utf-8"))
    except (ValueError, RecursionError):
        raise AuthError("the session token is malformed; sign in again")
    if not isinstance(payload, dict) or payload.get("aud") != audience:
        raise AuthError("the session token is for another app; sign in again")
    expires, user_id = payload.get("exp"), payload.get("sub")
    if not isinstance(expires, int) or not isinstance(user_id, str) or not _USER_ID_RE.fullmatch(user_id):
        raise AuthError("the session token is malformed; sign in again")
    if now_epoch >= expires:
        raise AuthError("the session has expired; sign in again")
    return payload


def verify(token, secrets, audience, now_epoch):
    """The token's userId; AuthError (401) when it is malformed, forged, for another app or expired."""
    return verify_payload(token, secrets, audience, now_epoch)["sub"]


def issue(config, openid, now_epoch):
    """README's `POST /v1/session` answer for a verified openid."""
    user_id = user_id_for(config.wechat_appid, openid)
    claims = {SEALED_OPENID_CLAIM: seal_openid(config, user_id, openid)} if config.moderation == "wechat" else None
    token, expires = mint(user_id, config.session_secrets[0], config.wechat_appid, now_epoch, config.session_ttl,
                          claims)
    return {"token": token, "expiresAt": _iso(expires), "userId": user_id}


# With MODERATION=wechat the token also carries the openid, sealed (sealing.py): WeChat's content check needs
# it long after login, and the function keeps no per-user state. The client holds it but cannot read it.
SEALED_OPENID_CLAIM = "oid"


def _openid_context(appid, user_id):
    return ("ossgate-openid\0%s\0%s" % (appid, user_id)).encode("utf-8")


def seal_openid(config, user_id, openid):
    from . import sealing

    return sealing.seal(config.session_secrets, openid, _openid_context(config.wechat_appid, user_id))


def open_openid(config, user_id, sealed):
    """The openid sealed for `user_id`; sealing.SealError unless it opens and really is that user's."""
    from . import sealing

    openid = sealing.open_sealed(config.session_secrets, sealed, _openid_context(config.wechat_appid, user_id))
    if not hmac.compare_digest(user_id_for(config.wechat_appid, openid), user_id):
        raise sealing.SealError("the sealed openid is not this user's")
    return openid


def _iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
