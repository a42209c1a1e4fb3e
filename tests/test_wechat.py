import threading

import pytest

from ossgate import wechat
from ossgate.errors import AuthError, RequestError, UpstreamError


class FakeWeChat:
    def __init__(self, *answers):
        self.answers = list(answers)
        self.urls = []

    def __call__(self, url, timeout):
        self.urls.append(url)
        assert timeout == wechat.TIMEOUT_SECONDS
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def login(fake, sleeps=None):
    return wechat.code_to_openid("https://api.example", "wx1", "app-secret", "code123", fetch=fake,
                                 sleep=(sleeps.append if sleeps is not None else lambda s: None),
                                 jitter=lambda: 0.5)


def test_success_drops_the_session_key():
    fake = FakeWeChat({"openid": "o1", "session_key": "SESSIONKEY"})
    assert login(fake) == "o1"
    assert "js_code=code123" in fake.urls[0] and "grant_type=authorization_code" in fake.urls[0]


@pytest.mark.parametrize("errcode, error_type, code", [
    (40029, AuthError, "invalid_code"), (40163, AuthError, "invalid_code"),
    (45011, UpstreamError, "rate_limited"), (40226, UpstreamError, "user_blocked"),
    (40013, UpstreamError, "upstream_error")])
def test_errors_are_mapped_without_retry(errcode, error_type, code):
    fake = FakeWeChat({"errcode": errcode, "errmsg": "x"})
    with pytest.raises(error_type) as raised:
        login(fake)
    assert raised.value.code == code and len(fake.urls) == 1


def test_status_codes():
    assert AuthError("x", code="invalid_code").status == 401
    assert UpstreamError("rate_limited", "x").status == 429
    assert UpstreamError("user_blocked", "x").status == 403
    assert UpstreamError("upstream_error", "x").status == 502


@pytest.mark.parametrize("first", [{"errcode": -1, "errmsg": "busy"}, OSError("timed out"), ValueError("bad json")])
def test_one_jittered_retry_on_busy_or_network(first):
    sleeps = []
    assert login(FakeWeChat(first, {"openid": "o2"}), sleeps) == "o2"
    assert sleeps == [0.2]


def test_gives_up_after_the_retry():
    sleeps = []
    with pytest.raises(UpstreamError) as raised:
        login(FakeWeChat(OSError(), {"errcode": -1}), sleeps)
    assert raised.value.code == "upstream_error" and len(sleeps) == 1


@pytest.mark.parametrize("code", [None, "", 5, "a b", "x" * 200, "code\n"])
def test_code_is_checked_before_any_call(code):
    fake = FakeWeChat()
    with pytest.raises(RequestError):
        wechat.code_to_openid("https://api.example", "wx1", "s", code, fetch=fake)
    assert fake.urls == []


def test_against_the_local_stand_in_over_http():
    from local import wechat as stand_in

    server = stand_in.make_server(stand_in.WeChatStandIn("wx1", "app-secret"), port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % server.server_address[1]
    try:
        first = wechat.code_to_openid(base, "wx1", "app-secret", "alice-1")
        assert first == wechat.code_to_openid(base, "wx1", "app-secret", "alice-2")
        with pytest.raises(AuthError):
            wechat.code_to_openid(base, "wx1", "app-secret", "alice-1")  # used
        assert wechat.code_to_openid(base, "wx1", "app-secret", "busy-once").startswith("o-")
        with pytest.raises(UpstreamError):
            wechat.code_to_openid(base, "wx1", "wrong-secret", "bob")
    finally:
        server.shutdown()
        server.server_close()
