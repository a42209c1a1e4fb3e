"""moderation.py with an in-memory bucket: the check's start (never failing the upload), verdicts applied
once, the state an owner sees, and the sealed openid pinned into tickets."""

import base64
import json
from datetime import timedelta

import pytest

from conftest import FIXED_NOW, make_config
from ossgate import callbacks, contentsecurity, moderation, sessions
from ossgate.credentials import Credentials
from ossgate.errors import AuthError, OssgateError, RequestError

KEY = "uploads/u" + "a" * 31 + "/default/2026/11/29/0123456789abcdef0123456789abcdef.png"


class MemoryBucket:
    """What OssCalls offers, over a dict: objects {key: {"tag": ..., "data": ...}}."""

    def __init__(self, fail_on=()):
        self.objects, self.fail_on, self.calls = {}, set(fail_on), []

    def _call(self, name):
        self.calls.append(name)
        if name in self.fail_on:
            raise OSError("injected failure")

    def set_tag(self, key, value):
        self._call("set_tag")
        self.objects[key]["tag"] = value

    def tag(self, key):
        self._call("tag")
        return self.objects[key].get("tag", "") if key in self.objects else None

    def put_json(self, key, value):
        self._call("put_json")
        self.objects[key] = {"data": json.dumps(value)}

    def get_json(self, key):
        self._call("get_json")
        return json.loads(self.objects[key]["data"]) if key in self.objects else None

    def exists(self, key):
        self._call("exists")
        return key in self.objects

    def move(self, key, target, tag_value):
        self._call("move")
        self.objects[target] = dict(self.objects.pop(key), tag=tag_value)

    def delete(self, key):
        self._call("delete")
        self.objects.pop(key, None)


class Log(list):
    def __call__(self, level, event, **fields):
        self.append(dict(fields, level=level, event=event))


def config(**overrides):
    env = dict(AUTH_MODE="wechat", WECHAT_APPID="wx1", WECHAT_SECRET="app-secret", SESSION_SECRETS="s" * 32,
               CALLBACK_URL="https://fn.example/v1/oss-callback", MODERATION="wechat", WECHAT_PUSH_TOKEN="tok123",
               UPLOAD_PROFILES=json.dumps({"default": {}, "docs": {}}), MODERATION_PROFILES="default")
    env.update(overrides)
    return make_config(**env)


def test_which_uploads_are_checked():
    cfg = config()
    assert moderation.checks(cfg, KEY, "image/png") and moderation.checks(cfg, KEY, "audio/mpeg")
    assert not moderation.checks(cfg, KEY, "text/plain") and not moderation.checks(cfg, KEY, "video/mp4")
    assert not moderation.checks(cfg, KEY.replace("/default/", "/docs/"), "image/png")  # profile not listed
    assert not moderation.checks(cfg, "quarantine/" + KEY, "image/png")
    assert not moderation.checks(config(MODERATION="off"), KEY, "image/png")
    assert moderation.profile_of(cfg, KEY) == "default" and moderation.user_of(cfg, KEY) == "u" + "a" * 31


def test_the_ticket_pins_the_sealed_openid_only_for_checked_uploads():
    cfg = config()
    session = sessions.issue(cfg, "o-alice", 1_796_000_000)
    payload = sessions.verify_payload(session["token"], cfg.session_secrets, "wx1", 1_796_000_000)
    assert moderation.callback_constants(cfg, payload, "docs", "image/png") is None
    assert moderation.callback_constants(cfg, payload, "default", "text/plain") is None
    constants = moderation.callback_constants(cfg, payload, "default", "image/png")
    assert constants == {moderation.SEALED_OPENID_FIELD: payload[sessions.SEALED_OPENID_CLAIM]}
    field = callbacks.ticket_callback_field(cfg, KEY, constants)
    spec = json.loads(base64.b64decode(field))
    assert "o-alice" not in field and moderation.SEALED_OPENID_FIELD in spec["callbackBody"]
    sample = spec["callbackBody"].replace("${bucket}", '"b"').replace("${object}", json.dumps(KEY))
    for name in ("etag", "size", "mimeType", "imageInfo.height", "imageInfo.width"):
        sample = sample.replace("${%s}" % name, '""')
    stored = json.loads(sample)  # the body OSS will send is JSON carrying the sealed value as is
    assert stored[moderation.SEALED_OPENID_FIELD] == payload[sessions.SEALED_OPENID_CLAIM]
    with pytest.raises(AuthError):  # a session from before moderation was on
        moderation.callback_constants(cfg, {"sub": "u1"}, "default", "image/png")


def test_the_openid_comes_back_only_for_the_keys_owner():
    cfg = config()
    user_id = sessions.user_id_for("wx1", "o-alice")
    key = "uploads/%s/default/2026/11/29/%s.png" % (user_id, "f" * 32)
    sealed = sessions.seal_openid(cfg, user_id, "o-alice")
    body = json.dumps({"object": key, moderation.SEALED_OPENID_FIELD: sealed}).encode()
    assert moderation.openid_from_callback(cfg, key, body) == "o-alice"
    assert moderation.openid_from_callback(cfg, KEY, body) is None  # another user's key
    assert moderation.openid_from_callback(cfg, key, b"{}") is None
    assert moderation.openid_from_callback(cfg, key, b"not json") is None


def credentials(expires_in=None):
    expiration = FIXED_NOW + timedelta(seconds=expires_in) if expires_in else None
    return Credentials("LTAI5tTestKeyId", "test-secret-Zq8vX2pL9mN4bR7t", "CAIStoken", expiration)


class Tokens:
    def __init__(self):
        self.calls = 0

    def get(self, config, deadline):
        self.calls += 1
        return "TOKEN"


def start(bucket, post, openid="o-alice", creds=None):
    log = Log()
    bucket.objects.setdefault(KEY, {})
    state = moderation.start_check(config(), creds or credentials(), Tokens(), KEY, "image/png", openid, FIXED_NOW,
                                   log, oss=bucket, deadline=contentsecurity.Deadline(5))
    return state, log


def test_start_tags_pending_checks_and_records_the_trace(monkeypatch):
    sent = []
    monkeypatch.setattr(contentsecurity, "post_json",
                        lambda url, payload, timeout: sent.append(payload) or {"errcode": 0, "trace_id": "tr-1"})
    bucket = MemoryBucket()
    state, log = start(bucket, sent)
    assert state == "pending" and moderation.state_from_tag(config(), KEY, bucket.objects[KEY]["tag"]) == "pending"
    assert bucket.get_json(moderation.trace_record_key("tr-1")) == {"key": KEY, "state": "pending"}
    assert sent[0]["openid"] == "o-alice" and sent[0]["media_type"] == 2
    assert "x-oss-expires=3600" in sent[0]["media_url"]  # WeChat may take 30 minutes: the link lasts an hour
    assert [e["event"] for e in log] == ["moderation_started"] and "o-alice" not in json.dumps(log)


@pytest.mark.parametrize("failure, step", [
    ("wechat", "media_check_async"), ("tag", "tag"), ("record", "record"), ("no-openid", "media_check_async"),
    ("short-credentials", "media_check_async")])
def test_any_failure_leaves_the_upload_pending_and_is_logged(monkeypatch, failure, step):
    def post(url, payload, timeout):
        if failure == "wechat":
            raise OSError("connection refused")
        return {"errcode": 0, "trace_id": "tr-2"}
    monkeypatch.setattr(contentsecurity, "post_json", post)
    bucket = MemoryBucket(fail_on={"tag": ["set_tag"], "record": ["put_json"]}.get(failure, ()))
    state, log = start(bucket, None, openid=None if failure == "no-openid" else "o-alice",
                       creds=credentials(600) if failure == "short-credentials" else None)
    assert state == "pending"
    assert [(e["event"], e["step"], e["level"]) for e in log] == [("moderation_not_started", step, "error")]


def record(bucket, trace_id="tr-9", state="pending", tag="pending"):
    bucket.objects[KEY] = {"tag": moderation.tag_value(config(), KEY, tag), "data": "png"}
    bucket.put_json(moderation.trace_record_key(trace_id), {"key": KEY, "state": state})


def push(trace_id="tr-9", suggest="pass", **extra):
    return dict({"Event": "wxa_media_check", "appid": "wx1", "trace_id": trace_id, "errcode": 0,
                 "result": {"suggest": suggest, "label": 100}}, **extra)


@pytest.mark.parametrize("suggest", ["pass", "review"])
def test_pass_and_review_set_the_tag_once(suggest):
    bucket, log = MemoryBucket(), Log()
    record(bucket)
    assert moderation.apply_push(config(), bucket, push(suggest=suggest), log) == suggest
    assert moderation.state_from_tag(config(), KEY, bucket.objects[KEY]["tag"]) == suggest
    assert moderation.state_of(config(), bucket, KEY) == suggest
    assert moderation.apply_push(config(), bucket, push(suggest="risky"), log) == "repeated"
    assert KEY in bucket.objects and moderation.state_of(config(), bucket, KEY) == suggest


@pytest.mark.parametrize("action", ["quarantine", "delete"])
def test_risky_marks_then_moves_or_deletes(action):
    cfg, bucket, log = config(MODERATION_ACTION=action), MemoryBucket(), Log()
    record(bucket)
    assert moderation.apply_push(cfg, bucket, push(suggest="risky"), log) == "risky"
    assert KEY not in bucket.objects
    assert ("quarantine/" + KEY in bucket.objects) == (action == "quarantine")
    assert bucket.calls.index("put_json") < bucket.calls.index("move" if action == "quarantine" else "delete")
    assert moderation.state_of(config(), bucket, KEY) == "risky"
    with pytest.raises(OssgateError) as raised:
        moderation.refuse_removed(bucket, KEY)
    assert (raised.value.status, raised.value.code) == (410, "removed")


def test_a_failed_check_keeps_the_object_pending_and_retries_are_no_ops():
    bucket, log = MemoryBucket(), Log()
    record(bucket)
    assert moderation.apply_push(config(), bucket, push(errcode=-1, result=None), log) == "failed"
    assert moderation.state_of(config(), bucket, KEY) == "pending"
    assert moderation.apply_push(config(), bucket, push(suggest="pass"), log) == "repeated"


def test_unknown_traces_bad_trace_ids_and_other_events():
    bucket, log = MemoryBucket(), Log()
    with pytest.raises(RequestError) as raised:
        moderation.apply_push(config(), bucket, push(trace_id="nope"), log)
    assert raised.value.status == 404
    for bad in (None, "", "../../x", "a" * 200):
        with pytest.raises(RequestError):
            moderation.apply_push(config(), bucket, push(trace_id=bad), log)
    assert moderation.apply_push(config(), bucket, {"Event": "user_enter_tempsession"}, log) == "ignored"


def test_state_of_unchecked_and_missing_objects():
    bucket = MemoryBucket()
    bucket.objects[KEY] = {}
    assert moderation.state_of(config(), bucket, KEY) == "unchecked"
    with pytest.raises(RequestError) as raised:
        moderation.state_of(config(), bucket, KEY + ".other")
    assert raised.value.status == 404
    moderation.refuse_removed(bucket, KEY)  # nothing removed: no error


def test_multipart_complete_callbacks_carry_the_sealed_openid_for_moderated_profiles():
    cfg = config()
    user_id = sessions.user_id_for("wx1", "o-alice")
    session = sessions.issue(cfg, "o-alice", 1_796_000_000)
    payload = sessions.verify_payload(session["token"], cfg.session_secrets, "wx1", 1_796_000_000)
    key = "uploads/%s/default/2026/11/29/%s.mp3" % (user_id, "e" * 32)
    assert moderation.callback_constants_for_key(cfg, payload, key) == {
        moderation.SEALED_OPENID_FIELD: payload[sessions.SEALED_OPENID_CLAIM]}
    assert moderation.callback_constants_for_key(cfg, payload, key.replace("/default/", "/docs/")) is None
    assert moderation.callback_constants_for_key(config(MODERATION="off"), payload, key) is None


def test_a_tag_the_uploader_set_is_never_read_as_a_verdict():
    bucket = MemoryBucket()
    for forged in ("pass", "pass.", "pass." + "0" * 32, moderation.tag_value(config(), KEY + "x", "pass"),
                   moderation.tag_value(config(SESSION_SECRETS="t" * 32), KEY, "pass")):
        bucket.objects[KEY] = {"tag": forged}
        assert moderation.state_of(config(), bucket, KEY) == "unchecked", forged
    bucket.objects[KEY] = {"tag": moderation.tag_value(config(SESSION_SECRETS="t" * 32), KEY, "review")}
    rotated = config(SESSION_SECRETS="n" * 32 + "," + "t" * 32)  # written before a rotation: still ours
    assert moderation.state_of(rotated, bucket, KEY) == "review"
