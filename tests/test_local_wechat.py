"""The WeChat stand-in over real HTTP: the stable token (normal and force-refresh modes), media_check_async
(which fetches the media URL itself) and the signed push with WeChat's retries; and the function's token cache
and media check client against it."""

import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

from conftest import make_config
from formpost import http, post_json
from local import wechat as stand_in
from ossgate import contentsecurity, pushes
from ossgate.errors import UpstreamError

APPID, SECRET, TOKEN = "wxstand", "stand-secret", "standToken1"


@contextmanager
def serving(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield "http://127.0.0.1:%d" % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def wechat(**options):
    state = stand_in.WeChatStandIn(APPID, SECRET, **options)
    with serving(stand_in.make_server(state, port=0)) as base:
        yield state, base


@contextmanager
def receiver(answers):
    """A push receiver answering the given (status, body) in turn, recording what it got."""
    got = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            got.append((dict(parse_qsl(urlsplit(self.path).query)),
                        self.rfile.read(int(self.headers["Content-Length"]))))
            status, body = answers[min(len(got), len(answers)) - 1]
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

        def do_GET(self):  # the media file WeChat fetches
            body = b"\x89PNG...OSSGATE-REVIEW..."
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as base:
        yield base, got


def config(base, **overrides):
    env = dict(AUTH_MODE="wechat", WECHAT_APPID=APPID, WECHAT_SECRET=SECRET, SESSION_SECRETS="s" * 32,
               WECHAT_API_BASE=base, CALLBACK_URL="https://fn.example/v1/oss-callback", MODERATION="wechat",
               WECHAT_PUSH_TOKEN=TOKEN, MODERATION_SCENE="2")
    env.update(overrides)
    return make_config(**env)


def stable_token(base, force=False, secret=SECRET):
    return post_json(base + "/cgi-bin/stable_token", {"grant_type": "client_credential", "appid": APPID,
                                                      "secret": secret, "force_refresh": force})[1]


def login(base, code):
    return json.loads(http("GET", base + "/sns/jscode2session?appid=%s&secret=%s&js_code=%s"
                           "&grant_type=authorization_code" % (APPID, SECRET, code))[2])["openid"]


def test_stable_token_normal_mode_returns_the_same_token_and_force_refresh_invalidates_it():
    with wechat() as (state, base):
        first = stable_token(base)
        assert first["expires_in"] == 7200 and stable_token(base)["access_token"] == first["access_token"]
        forced = stable_token(base, force=True)["access_token"]
        assert forced != first["access_token"]
        assert stable_token(base, force=True)["errcode"] == 45009  # 30 s apart
        assert stable_token(base, secret="wrong")["errcode"] == 40125
        answer = post_json(base + "/wxa/media_check_async?access_token=" + first["access_token"], {})[1]
        assert answer["errcode"] == 40001


def test_an_expired_token_answers_42001():
    clock = [1000.0]
    with wechat(clock=lambda: clock[0], token_ttl=60) as (state, base):
        token = stable_token(base)["access_token"]
        clock[0] += 61
        assert post_json(base + "/wxa/media_check_async?access_token=" + token, {})[1]["errcode"] == 42001


def test_two_instances_share_one_token_without_invalidating_each_other():
    with wechat() as (state, base), receiver([(200, b"success")]) as (media, _):
        openid = login(base, "alice")
        cfg = config(base)
        first, second = contentsecurity.StableTokenCache(), contentsecurity.StableTokenCache()
        for cache in (first, second, first, second):
            trace = contentsecurity.media_check_async(cfg, cache, media + "/m.png", 2, openid,
                                                      contentsecurity.Deadline(5))
            assert trace
        assert (first.fetches, second.fetches) == (1, 1)
        counts = json.loads(http("GET", base + "/__standin/state")[2])
        assert counts["tokensIssued"] == 1 and counts["forcedRefreshes"] == 0 and counts["rejectedTokens"] == 0


def test_a_rejected_token_is_renewed_once_in_normal_mode():
    with wechat() as (state, base), receiver([(200, b"success")]) as (media, _):
        openid = login(base, "bob")
        cfg = config(base)
        stale, fresh = contentsecurity.StableTokenCache(), contentsecurity.StableTokenCache()
        deadline = contentsecurity.Deadline(5)
        stale.get(cfg, deadline)
        state.last_forced = None
        stable_token(base, force=True)  # someone else force-refreshed: the stale cache's token is now invalid
        assert contentsecurity.media_check_async(cfg, stale, media + "/m.png", 2, openid, deadline)
        assert stale.fetches == 2  # the cached token, then one normal-mode fetch: no force refresh of ours
        assert json.loads(http("GET", base + "/__standin/state")[2])["forcedRefreshes"] == 1
        assert contentsecurity.media_check_async(cfg, fresh, media + "/m.png", 2, openid, deadline)


def test_media_check_validates_its_request():
    with wechat() as (state, base):
        openid = login(base, "carol")
        token = stable_token(base)["access_token"]
        good = {"media_url": "http://127.0.0.1:9/x.png", "media_type": 2, "version": 2, "scene": 1, "openid": openid}
        url = base + "/wxa/media_check_async?access_token=" + token
        assert post_json(url, good)[1]["errcode"] == 0
        for bad in ({"version": 1}, {"media_type": 3}, {"scene": 5}, {"openid": "o-never-logged-in"},
                    {"media_url": "ftp://x"}):
            assert post_json(url, dict(good, **bad))[1]["errcode"] != 0


def test_the_check_fetches_the_media_and_pushes_a_signed_result_retrying_until_success():
    with receiver([(500, b"oops"), (200, b"not yet"), (200, b"success")]) as (target, got):
        with wechat(push_url=target + "/push", push_token=TOKEN, push_delay=0, retry_delay=0.05) as (state, base):
            openid = login(base, "dave")
            token = stable_token(base)["access_token"]
            answer = post_json(base + "/wxa/media_check_async?access_token=" + token,
                               {"media_url": target + "/media.png", "media_type": 2, "version": 2, "scene": 1,
                                "openid": openid})[1]
            deadline = time.monotonic() + 5
            while len(got) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.2)
    assert len(got) == 3  # two failed deliveries retried, then "success" ends it
    cfg = config("http://unused", WECHAT_APPID=APPID)
    for query, body in got:
        event = pushes.read_event(cfg, query, body, int(time.time()))
        assert event["trace_id"] == answer["trace_id"] and event["result"]["suggest"] == "review"
        assert event["Event"] == "wxa_media_check" and event["version"] == 2


def test_safe_mode_pushes_decrypt_with_the_functions_code():
    key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    with receiver([(200, b"success")]) as (target, got):
        with wechat(push_url=target + "/push", push_token=TOKEN, push_aes_key=key, push_delay=0) as (state, base):
            openid = login(base, "erin")
            token = stable_token(base)["access_token"]
            post_json(base + "/wxa/media_check_async?access_token=" + token,
                      {"media_url": "http://127.0.0.1:9/gone.png", "media_type": 2, "version": 2, "scene": 1,
                       "openid": openid})
            deadline = time.monotonic() + 15
            while not got and time.monotonic() < deadline:
                time.sleep(0.05)
    query, body = got[0]
    assert query["encrypt_type"] == "aes" and "Encrypt" in json.loads(body)
    event = pushes.read_event(config("http://unused", WECHAT_PUSH_AES_KEY=key), query, body, int(time.time()))
    assert event["errcode"] == -1 and "result" not in event  # the media URL could not be fetched


def test_media_check_client_reports_errors_without_the_token():
    with wechat() as (state, base):
        cfg = config(base)
        with pytest.raises(UpstreamError) as raised:
            contentsecurity.media_check_async(cfg, contentsecurity.StableTokenCache(), "http://x/m.png", 2,
                                              "o-unknown", contentsecurity.Deadline(5))
        assert "40003" in raised.value.message and "st-" not in raised.value.message
