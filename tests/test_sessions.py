import base64
import json

import pytest

from ossgate import sessions
from ossgate.errors import AuthError

SECRET = b"s" * 32
NOW = 1_796_000_000


def mint(user="u" + "a" * 31, secret=SECRET, audience="wx1", now=NOW, ttl=7200):
    return sessions.mint(user, secret, audience, now, ttl)[0]


def test_round_trip():
    token, expires = sessions.mint("u" + "a" * 31, SECRET, "wx1", NOW, 7200)
    assert expires == NOW + 7200
    assert sessions.verify(token, [SECRET], "wx1", NOW + 10) == "u" + "a" * 31


def flip(token, index):
    chars = list(token)
    chars[index] = "A" if chars[index] != "A" else "B"
    return "".join(chars)


@pytest.mark.parametrize("index", [3, 10, 20, 40, -1, -10, -30])
def test_any_tampering_is_refused(index):
    with pytest.raises(AuthError) as raised:
        sessions.verify(flip(mint(), index), [SECRET], "wx1", NOW)
    assert raised.value.status == 401


def test_payload_swap_is_refused():
    token = mint()
    header, payload, mac = token.split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged["sub"] = "u" + "b" * 31
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    with pytest.raises(AuthError):
        sessions.verify(".".join([header, forged_payload, mac]), [SECRET], "wx1", NOW)


def test_expiry():
    token = mint(ttl=60)
    assert sessions.verify(token, [SECRET], "wx1", NOW + 59)
    with pytest.raises(AuthError, match="expired"):
        sessions.verify(token, [SECRET], "wx1", NOW + 60)


def test_another_deployments_secret_and_audience_are_refused():
    with pytest.raises(AuthError):
        sessions.verify(mint(secret=b"o" * 32), [SECRET], "wx1", NOW)
    with pytest.raises(AuthError, match="another app"):
        sessions.verify(mint(audience="wx2"), [SECRET], "wx1", NOW)


def test_rotation_old_tokens_verify_while_the_old_secret_is_listed():
    old, new = b"o" * 32, b"n" * 32
    token = mint(secret=old)
    assert sessions.verify(token, [new, old], "wx1", NOW)
    with pytest.raises(AuthError):
        sessions.verify(token, [new], "wx1", NOW)


@pytest.mark.parametrize("token", ["", "v1", "v1..", "v2.e30.xxx", "v1.e30." + "A" * 43, "x" * 5000, None])
def test_malformed(token):
    with pytest.raises(AuthError):
        sessions.verify(token, [SECRET], "wx1", NOW)


def test_trailing_newline_is_not_a_valid_token():
    with pytest.raises(AuthError):
        sessions.verify(mint() + "\n", [SECRET], "wx1", NOW)


def test_user_ids_are_stable_opaque_and_distinct():
    alice = sessions.user_id_for("wx1", "oAlice-openid-123")
    assert alice == sessions.user_id_for("wx1", "oAlice-openid-123")
    assert alice != sessions.user_id_for("wx1", "oBob-openid-456")
    assert alice != sessions.user_id_for("wx2", "oAlice-openid-123")
    assert "Alice" not in alice and len(alice) == 32 and alice.isalnum()


B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def test_only_the_canonical_spelling_of_the_mac_is_accepted():
    """43 base64url characters carry 258 bits for a 256-bit MAC: the last character has 4 spellings that decode
    to the same bytes. Exactly one token string may verify."""
    token = mint()
    accepted = [c for c in B64URL if _verifies(token[:-1] + c)]
    assert accepted == [token[-1]]


def test_a_non_canonical_payload_spelling_is_refused_even_with_a_valid_mac():
    import hashlib
    import hmac

    # a user id whose payload's base64url form ends in unused bits
    token = next(t for t in (mint(user="u" + "a" * n) for n in range(31, 35)) if len(t.split(".")[1]) % 4 in (2, 3))
    _, payload, _ = token.split(".")
    variants = []
    for c in B64URL:
        spelled = payload[:-1] + c
        if spelled != payload and base64.urlsafe_b64decode(spelled + "==") == base64.urlsafe_b64decode(payload + "=="):
            signing_input = "v1." + spelled
            mac = hmac.new(SECRET, signing_input.encode(), hashlib.sha256).digest()
            variants.append(signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode())
    assert variants  # the payload has other spellings: each must be refused
    for forged in variants:
        with pytest.raises(AuthError):
            sessions.verify(forged, [SECRET], "wx1", NOW)


def _verifies(token):
    try:
        sessions.verify(token, [SECRET], "wx1", NOW)
        return True
    except AuthError:
        return False


def moderated_config(**overrides):
    from conftest import make_config

    env = dict(AUTH_MODE="wechat", WECHAT_APPID="wx1", WECHAT_SECRET="app-secret", SESSION_SECRETS="s" * 32,
               CALLBACK_URL="https://fn.example/v1/oss-callback", MODERATION="wechat", WECHAT_PUSH_TOKEN="tok123")
    env.update(overrides)
    return make_config(**env)


def test_with_moderation_the_token_carries_the_openid_sealed_not_readable():
    cfg = moderated_config()
    session = sessions.issue(cfg, "o-alice-openid", NOW)
    assert "o-alice-openid" not in session["token"]
    payload = sessions.verify_payload(session["token"], cfg.session_secrets, "wx1", NOW)
    assert "o-alice-openid" not in json.dumps(payload)
    assert sessions.open_openid(cfg, session["userId"], payload[sessions.SEALED_OPENID_CLAIM]) == "o-alice-openid"


def test_a_sealed_openid_opens_only_for_its_own_user():
    from ossgate.sealing import SealError

    cfg = moderated_config()
    alice = sessions.issue(cfg, "o-alice", NOW)
    bob = sessions.issue(cfg, "o-bob", NOW)
    sealed = sessions.verify_payload(alice["token"], cfg.session_secrets, "wx1", NOW)[sessions.SEALED_OPENID_CLAIM]
    with pytest.raises(SealError):
        sessions.open_openid(cfg, bob["userId"], sealed)
    with pytest.raises(SealError):
        sessions.open_openid(moderated_config(SESSION_SECRETS="t" * 32), alice["userId"], sealed)


def test_without_moderation_no_openid_is_sealed_into_the_token():
    cfg = moderated_config(MODERATION="off")
    session = sessions.issue(cfg, "o-alice", NOW)
    assert sessions.SEALED_OPENID_CLAIM not in sessions.verify_payload(session["token"], cfg.session_secrets, "wx1", NOW)
