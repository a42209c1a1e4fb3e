"""WeChat message-push verification and safe-mode decryption, against WeChat's own published samples
(tests/vectors/wechat_push.json, with its source) and against pushes the local stand-in signs."""

import json

import pytest

from conftest import load_vectors, make_config
from local import wechat as stand_in
from ossgate import pushes

VECTORS = load_vectors("wechat_push.json")
NOW = 1796080200
TOKEN = "pushToken123"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wx1"


def config(aes_key=None):
    return make_config(AUTH_MODE="wechat", WECHAT_APPID=APPID, WECHAT_SECRET="app-secret",
                       SESSION_SECRETS="s" * 32, CALLBACK_URL="https://fn.example/v1/oss-callback",
                       MODERATION="wechat", WECHAT_PUSH_TOKEN=TOKEN, WECHAT_PUSH_AES_KEY=aes_key)


def signed_query(timestamp=NOW, nonce="12345", token=TOKEN):
    return {"timestamp": str(timestamp), "nonce": nonce, "signature": pushes.signature(token, str(timestamp), nonce)}


def test_decrypt_matches_wechats_sample():
    vector = VECTORS["aes"]
    assert pushes.decrypt(vector["encodingAesKey"], vector["encrypt"], vector["appid"]).decode() == vector["message"]


@pytest.mark.parametrize("name", ["safe_mode_message", "url_check"])
def test_msg_signature_and_decryption_match_wechats_samples(name):
    vector = VECTORS[name]
    encrypted = vector.get("encrypt") or vector["echostr"]
    assert pushes.signature(vector["token"], vector["timestamp"], vector["nonce"], encrypted) == vector["msg_signature"]
    assert pushes.decrypt(vector["encodingAesKey"], encrypted, vector["appid"]).decode() == vector["message"]


def test_the_stand_ins_encryption_matches_wechats_sample():
    vector = VECTORS["aes"]
    assert stand_in.encrypt_push(vector["encodingAesKey"], vector["appid"], vector["message"].encode(),
                                 vector["random"].encode()) == vector["encrypt"]


def test_wrong_appid_wrong_key_and_garbage_are_refused():
    vector = VECTORS["aes"]
    with pytest.raises(pushes.PushError, match="another app"):
        pushes.decrypt(vector["encodingAesKey"], vector["encrypt"], "wxother")
    with pytest.raises(pushes.PushError):
        pushes.decrypt(VECTORS["url_check"]["encodingAesKey"], vector["encrypt"], vector["appid"])
    for garbage in ("", "not base64!", "AAAA", "A" * 44):
        with pytest.raises(pushes.PushError):
            pushes.decrypt(vector["encodingAesKey"], garbage, vector["appid"])


def test_url_check_answers_echostr_only_when_signed():
    cfg = config()
    assert pushes.echo(cfg, dict(signed_query(), echostr="abc123"), NOW) == "abc123"
    for query in (dict(signed_query(), echostr="abc", signature="0" * 40),
                  dict(signed_query(token="other"), echostr="x"),
                  {"echostr": "x"}, dict(signed_query(timestamp=NOW - 3600), echostr="x")):
        with pytest.raises(pushes.PushError) as raised:
            pushes.echo(cfg, query, NOW)
        assert raised.value.status == 401 and raised.value.code == "invalid_push_signature"


def test_plaintext_push_is_read_after_its_signature_and_appid():
    event = {"Event": "wxa_media_check", "appid": APPID, "trace_id": "t1", "result": {"suggest": "pass"}}
    body = json.dumps(event).encode()
    assert pushes.read_event(config(), signed_query(), body, NOW) == event
    with pytest.raises(pushes.PushError, match="another app"):
        pushes.read_event(config(), signed_query(), json.dumps(dict(event, appid="wx2")).encode(), NOW)
    with pytest.raises(pushes.PushError, match="signature"):
        pushes.read_event(config(), dict(signed_query(), signature="f" * 40), body, NOW)
    with pytest.raises(pushes.PushError, match="too old"):
        pushes.read_event(config(), signed_query(timestamp=NOW - 1000), body, NOW)


def safe_push(event, appid=APPID, key=AES_KEY, timestamp=NOW, nonce="777"):
    sender = stand_in.WeChatStandIn(appid, "s", push_token=TOKEN, push_aes_key=key, clock=lambda: timestamp)
    query, body = sender.signed_push(event)
    from urllib.parse import parse_qsl

    return dict(parse_qsl(query)), body


def test_safe_mode_push_from_the_stand_in_is_verified_and_decrypted():
    event = {"ToUserName": "gh_x", "Event": "wxa_media_check", "appid": APPID, "trace_id": "t2",
             "result": {"suggest": "risky"}}
    query, body = safe_push(event)
    assert pushes.read_event(config(AES_KEY), query, body, NOW) == event


def test_safe_mode_refuses_plaintext_altered_wrong_key_and_wrong_app():
    cfg = config(AES_KEY)
    event = {"ToUserName": "gh_x", "Event": "wxa_media_check", "appid": APPID, "trace_id": "t3",
             "result": {"suggest": "pass"}}
    with pytest.raises(pushes.PushError, match="safe-mode"):
        pushes.read_event(cfg, signed_query(), json.dumps(event).encode(), NOW)
    query, body = safe_push(event)
    envelope = json.loads(body)
    other_query, other_body = safe_push(dict(event, result={"suggest": "risky"}))
    altered = json.dumps(dict(envelope, Encrypt=json.loads(other_body)["Encrypt"])).encode()
    with pytest.raises(pushes.PushError, match="msg_signature"):
        pushes.read_event(cfg, query, altered, NOW)
    wrong_key_query, wrong_key_body = safe_push(event, key=VECTORS["url_check"]["encodingAesKey"])
    with pytest.raises(pushes.PushError):
        pushes.read_event(cfg, wrong_key_query, wrong_key_body, NOW)
    other_app_query, other_app_body = safe_push(dict(event, appid="wx2"), appid="wx2")
    with pytest.raises(pushes.PushError, match="another app"):
        pushes.read_event(cfg, other_app_query, other_app_body, NOW)
