"""The access-token cache and the media check client, with a scripted WeChat (no network)."""

import pytest

from conftest import make_config
from ossgate import contentsecurity
from ossgate.errors import UpstreamError


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class ScriptedWeChat:
    """Answers stable_token and media_check_async from queues; records every call (url, payload)."""

    def __init__(self, tokens=(), checks=()):
        self.tokens, self.checks, self.calls = list(tokens), list(checks), []

    def __call__(self, url, payload, timeout):
        self.calls.append((url, payload, timeout))
        queue = self.tokens if "/cgi-bin/stable_token" in url else self.checks
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def config():
    return make_config(AUTH_MODE="wechat", WECHAT_APPID="wx1", WECHAT_SECRET="app-secret", SESSION_SECRETS="s" * 32,
                       WECHAT_API_BASE="https://api.example", CALLBACK_URL="https://fn.example/cb",
                       MODERATION="wechat", WECHAT_PUSH_TOKEN="tok123", MODERATION_SCENE="4")


def token(value, expires_in=7200):
    return {"access_token": value, "expires_in": expires_in}


def test_the_token_is_cached_until_five_minutes_before_it_expires():
    clock, wechat = Clock(), ScriptedWeChat([token("A"), token("B")])
    cache = contentsecurity.StableTokenCache(post=wechat, clock=clock)
    assert cache.get(config(), contentsecurity.Deadline(5, clock)) == "A"
    clock.now += 7200 - 301
    assert cache.get(config(), contentsecurity.Deadline(5, clock)) == "A"
    clock.now += 2
    assert cache.get(config(), contentsecurity.Deadline(5, clock)) == "B"
    url, payload, _ = wechat.calls[0]
    assert url == "https://api.example/cgi-bin/stable_token"
    assert payload == {"grant_type": "client_credential", "appid": "wx1", "secret": "app-secret",
                       "force_refresh": False}


def test_a_rejected_token_is_replaced_in_normal_mode_when_wechat_has_a_newer_one():
    wechat = ScriptedWeChat([token("A"), token("B")], [{"errcode": 40001}, {"errcode": 0, "trace_id": "t1"}])
    cache = contentsecurity.StableTokenCache(post=wechat, clock=Clock())
    trace = contentsecurity.media_check_async(config(), cache, "https://b.example/m.png", 2, "o1",
                                              contentsecurity.Deadline(5), post=wechat)
    assert trace == "t1"
    assert [c[1].get("force_refresh") for c in wechat.calls if "stable_token" in c[0]] == [False, False]
    assert wechat.calls[-1][0].endswith("access_token=B")
    assert wechat.calls[-1][1] == {"media_url": "https://b.example/m.png", "media_type": 2, "version": 2,
                                   "scene": 4, "openid": "o1"}


def test_force_refresh_only_when_normal_mode_returns_the_rejected_token_and_never_twice_in_30_seconds():
    clock = Clock()
    wechat = ScriptedWeChat([token("A"), token("A"), token("C"), token("C")],
                            [{"errcode": 42001}, {"errcode": 0, "trace_id": "t2"}, {"errcode": 40001}])
    cache = contentsecurity.StableTokenCache(post=wechat, clock=clock)
    deadline = contentsecurity.Deadline(5, clock)
    assert contentsecurity.media_check_async(config(), cache, "u", 1, "o1", deadline, post=wechat) == "t2"
    assert [c[1]["force_refresh"] for c in wechat.calls if "stable_token" in c[0]] == [False, False, True]
    with pytest.raises(UpstreamError):  # C rejected, normal mode answers C again, and a force was just made
        contentsecurity.media_check_async(config(), cache, "u", 1, "o1", deadline, post=wechat)
    assert [c[1]["force_refresh"] for c in wechat.calls if "stable_token" in c[0]] == [False, False, True, False]


def test_only_one_retry_and_errors_name_the_errcode_not_the_token():
    wechat = ScriptedWeChat([token("SECRET-TOKEN"), token("SECRET-TOKEN-2")],
                            [{"errcode": 40001}, {"errcode": 40001}])
    with pytest.raises(UpstreamError) as raised:
        contentsecurity.media_check_async(config(), contentsecurity.StableTokenCache(post=wechat, clock=Clock()),
                                          "u", 2, "o1", contentsecurity.Deadline(5), post=wechat)
    assert "40001" in raised.value.message and "SECRET" not in raised.value.message
    assert len([c for c in wechat.calls if "media_check" in c[0]]) == 2


@pytest.mark.parametrize("failure", [OSError("down"), ValueError("not json"), {"errcode": 40013}])
def test_token_failures_are_upstream_errors(failure):
    wechat = ScriptedWeChat([failure])
    with pytest.raises(UpstreamError):
        contentsecurity.StableTokenCache(post=wechat, clock=Clock()).get(config(), contentsecurity.Deadline(5))


def test_every_call_is_bounded_by_the_shared_deadline():
    clock = Clock()
    deadline = contentsecurity.Deadline(2.0, clock)
    assert deadline.timeout() == contentsecurity.CALL_TIMEOUT_SECONDS
    clock.now += 1.2
    assert deadline.timeout() == pytest.approx(0.8)
    clock.now += 0.75
    with pytest.raises(UpstreamError):
        deadline.timeout()


@pytest.mark.parametrize("content_type, kind", [("image/png", 2), ("image/jpeg", 2), ("audio/mpeg", 1),
                                                ("AUDIO/AAC", 1), ("video/mp4", None), ("text/plain", None),
                                                (None, None), ("", None)])
def test_media_types(content_type, kind):
    assert contentsecurity.media_type(content_type) == kind
