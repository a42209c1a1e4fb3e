"""Quotas over a real redis-server (tests/redis_server.py): limits per user, per profile and for all profiles,
shared by several function instances, atomic under concurrency, by calendar day at the configured offset, and
what happens when Redis dies, is slow, or refuses the password."""

import base64
import io
import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, ROOT, SECURITY_TOKEN, base_env, http_event, response_json
from ossgate import config, sessions
from ossgate.app import App
from ossgate.credentials import Credentials
from ossgate.log import JsonLogger
from ossgate.quotas import SCRIPT_SHA
from redis_server import RedisServer

APPID = "wxquota"
SESSION_SECRET = "quota-session-secret-0123456789abcdef"
PROFILES = {"default": {"maxSize": 10 * 1024 * 1024}, "avatar": {"maxSize": 1024 * 1024}}
# 2026-11-30 12:00 in China (+08:00)
NOON_CHINA = datetime(2026, 11, 30, 4, 0, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, now=NOON_CHINA):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)


def quota_app(url, quotas, clock=None, log=None, **settings):
    env = base_env(AUTH_MODE="wechat", WECHAT_APPID=APPID, WECHAT_SECRET="wechat-app-secret-quota",
                   SESSION_SECRETS=SESSION_SECRET, UPLOAD_PROFILES=json.dumps(PROFILES), SEED_ROUTE="on",
                   QUOTA_REDIS_URL=url, QUOTAS=json.dumps(quotas) if quotas is not None else None, **settings)
    return App(lambda: config.from_environ(env), clock=clock or Clock(),
               credentials_provider=lambda cfg, ctx: Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET, SECURITY_TOKEN),
               logger=JsonLogger(log if log is not None else io.StringIO()))


def new_user():
    return "u" + uuid.uuid4().hex[:24]


def ask(app, user, size=100, profile=None, path="/v1/uploads"):
    token, _ = sessions.mint(user, SESSION_SECRET.encode(), APPID, app.clock().timestamp(), 7200)
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + token}
    if path == "/generate_signature":
        return app.handle(http_event("GET", path, headers=headers))
    body = {"size": size, "contentType": "image/jpeg"}
    if profile:
        body["profile"] = profile
    return app.handle(http_event(body=body, headers=headers))


def error_of(response):
    return response_json(response)["error"]


def statuses(app, user, count, **kwargs):
    return [ask(app, user, **kwargs)["statusCode"] for _ in range(count)]


def log_lines(log):
    return [json.loads(line) for line in log.getvalue().splitlines()]


def test_tickets_per_minute_is_a_sliding_window_per_user(redis_server):
    clock = Clock()
    app = quota_app(redis_server.url, {"*": {"ticketsPerMinute": 3}}, clock)
    alice, bob = new_user(), new_user()
    assert statuses(app, alice, 2) == [200, 200]
    clock.advance(20)
    assert statuses(app, alice, 1) == [200]
    refused = ask(app, alice)
    assert refused["statusCode"] == 429
    error = error_of(refused)
    assert error["code"] == "quota_exceeded" and "ticketsPerMinute" in error["message"]
    assert refused["headers"]["Retry-After"] == "40" and error["retryAfter"] == 40  # the first two leave at 60 s
    assert statuses(app, bob, 3) == [200, 200, 200]  # another user has his own count
    clock.advance(39)
    assert ask(app, alice)["headers"]["Retry-After"] == "1"
    clock.advance(1)  # the first two tickets left the window, the third (at 20 s) did not
    assert statuses(app, alice, 3) == [200, 200, 429]
    assert ask(app, alice)["headers"]["Retry-After"] == "20"


def test_limits_per_profile_and_for_all_profiles_together(redis_server):
    app = quota_app(redis_server.url, {"avatar": {"uploadsPerDay": 2}, "*": {"uploadsPerDay": 3}})
    user = new_user()
    assert statuses(app, user, 2, profile="avatar") == [200, 200]
    refused = ask(app, user, profile="avatar")
    assert refused["statusCode"] == 429
    assert "uploadsPerDay" in error_of(refused)["message"] and "'avatar'" in error_of(refused)["message"]
    assert statuses(app, user, 1, profile="default") == [200]  # the third of the day, in another profile
    refused = ask(app, user, profile="default")
    assert refused["statusCode"] == 429 and "all profiles together" in error_of(refused)["message"]
    assert statuses(app, new_user(), 2, profile="avatar") == [200, 200]


def test_bytes_per_day_counts_declared_sizes_and_the_policy_pins_the_size(redis_server):
    app = quota_app(redis_server.url, {"default": {"bytesPerDay": 1000}})
    user = new_user()
    first = ask(app, user, size=600)
    assert first["statusCode"] == 200
    policy = json.loads(base64.b64decode(response_json(first)["fields"]["policy"]))
    assert ["content-length-range", 1, 600] in policy["conditions"]
    refused = ask(app, user, size=401)
    assert refused["statusCode"] == 429
    error = error_of(refused)
    assert "bytesPerDay" in error["message"] and "401 bytes" in error["message"]
    assert "2026-12-01T00:00:00+08:00" in error["message"]
    assert refused["headers"]["Retry-After"] == str(12 * 3600)  # noon in China: 12 hours to midnight
    assert ask(app, user, size=400)["statusCode"] == 200  # the refused 401 bytes were not counted
    assert ask(app, user, size=1)["statusCode"] == 429


def test_refused_requests_count_nothing(redis_server):
    app = quota_app(redis_server.url, {"*": {"uploadsPerDay": 2, "ticketsPerMinute": 2}})
    user = new_user()
    assert ask(app, user, size=20 * 1024 * 1024)["statusCode"] == 413  # over the profile's maxSize
    assert ask(app, user, profile="nope")["statusCode"] == 404
    assert statuses(app, user, 3) == [200, 200, 429]
    assert statuses(app, user, 5) == [429] * 5  # refusals do not push the window forward either
    import redis

    client = redis.Redis.from_url(redis_server.url)
    assert client.zcard("ossgate:quota:{%s}:*:minute" % user) == 2


def test_the_seed_route_is_counted_at_the_profile_size(redis_server):
    app = quota_app(redis_server.url, {"*": {"bytesPerDay": 10 * 1024 * 1024 + 100}})
    user = new_user()
    assert ask(app, user, path="/generate_signature")["statusCode"] == 200
    assert ask(app, user, size=100)["statusCode"] == 200
    assert ask(app, user, size=1)["statusCode"] == 429


def test_two_function_instances_share_the_counts(redis_server):
    first, second = (quota_app(redis_server.url, {"*": {"uploadsPerDay": 4}}) for _ in range(2))
    user = new_user()
    assert [ask(app, user)["statusCode"] for app in (first, second, first, second, first, second)] == \
        [200, 200, 200, 200, 429, 429]


@pytest.mark.parametrize("limits, size", [
    ({"uploadsPerDay": 15}, 100),
    ({"ticketsPerMinute": 15}, 100),
    ({"bytesPerDay": 1500}, 100),
])
def test_fifty_parallel_requests_with_ten_left_give_exactly_ten_tickets(redis_server, limits, size):
    apps = [quota_app(redis_server.url, {"*": limits}) for _ in range(2)]
    user = new_user()
    assert statuses(apps[0], user, 5, size=size) == [200] * 5
    barrier = threading.Barrier(50)

    def one(index):
        barrier.wait()
        return ask(apps[index % 2], user, size=size)["statusCode"]

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(one, range(50)))
    assert results.count(200) == 10 and results.count(429) == 40


def test_the_day_rolls_over_at_the_configured_offset(redis_server):
    clock = Clock(datetime(2026, 11, 30, 15, 59, 59, tzinfo=timezone.utc))  # 23:59:59 in China
    china = quota_app(redis_server.url, {"*": {"uploadsPerDay": 1}}, clock)
    new_york = quota_app(redis_server.url, {"*": {"uploadsPerDay": 1}}, clock, QUOTA_DAY_UTC_OFFSET="-05:00")
    user, other = new_user(), new_user()
    assert statuses(china, user, 1) == [200]
    refused = ask(china, user)
    assert refused["headers"]["Retry-After"] == "1" and "2026-12-01T00:00:00+08:00" in error_of(refused)["message"]
    assert statuses(new_york, other, 2) == [200, 429]
    clock.advance(1)  # midnight in China, 11:00 in New York
    assert statuses(china, user, 2) == [200, 429]
    refused = ask(new_york, other)
    assert refused["statusCode"] == 429 and refused["headers"]["Retry-After"] == str(13 * 3600)
    assert "2026-12-01T00:00:00-05:00" in error_of(refused)["message"]


def test_one_round_trip_per_ticket_and_eval_when_the_script_is_not_cached(redis_server):
    import redis

    admin = redis.Redis.from_url(redis_server.url)
    app = quota_app(redis_server.url, {"*": {"uploadsPerDay": 100, "ticketsPerMinute": 100, "bytesPerDay": 10 ** 9}})
    user = new_user()
    admin.script_flush()
    assert statuses(app, user, 1) == [200]  # NOSCRIPT, then EVAL, which caches it
    assert admin.script_exists(SCRIPT_SHA) == [True]
    admin.config_resetstat()
    assert statuses(app, user, 5) == [200] * 5
    # commandstats also counts what the script calls inside Redis; what a client sent is everything else
    inside_script = {"zremrangebyscore", "zcard", "zrange", "zadd", "pexpire", "get", "incr", "incrby"}
    sent = {name: value["calls"] for name, value in admin.info("commandstats").items()
            if name.split("_", 1)[1].split("|")[0] not in inside_script | {"config", "info"}}
    assert sent == {"cmdstat_evalsha": 5}


@pytest.mark.parametrize("fail_mode", ["closed", "open"])
def test_redis_killed_mid_run(fail_mode):
    log = io.StringIO()
    with RedisServer() as server:
        app = quota_app(server.url, {"*": {"uploadsPerDay": 100}}, log=log, QUOTA_FAIL_MODE=fail_mode)
        user = new_user()
        assert statuses(app, user, 2) == [200, 200]
        server.kill()
        started = time.monotonic()
        response = ask(app, user)
        elapsed = time.monotonic() - started
    assert elapsed < 3
    outages = [line for line in log_lines(log) if line["event"] == "quota_unavailable"]
    assert len(outages) == 1 and outages[0]["failMode"] == fail_mode
    assert "redis" in outages[0]["reason"].lower()
    if fail_mode == "closed":
        assert response["statusCode"] == 503 and error_of(response)["code"] == "quota_unavailable"
    else:
        assert response["statusCode"] == 200 and response_json(response)["fields"]["policy"]


@pytest.mark.parametrize("fail_mode", ["closed", "open"])
def test_a_redis_that_never_answers_is_an_outage_within_seconds(fail_mode):
    silent = socket.socket()  # accepts connections (the kernel's backlog) and never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        log = io.StringIO()
        app = quota_app("redis://127.0.0.1:%d/0" % silent.getsockname()[1], {"*": {"uploadsPerDay": 5}}, log=log,
                        QUOTA_FAIL_MODE=fail_mode)
        started = time.monotonic()
        response = ask(app, new_user())
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert 0.5 < elapsed < 3
    assert response["statusCode"] == (503 if fail_mode == "closed" else 200)
    outage = [line for line in log_lines(log) if line["event"] == "quota_unavailable"]
    assert outage and "Timeout" in outage[0]["reason"]


@pytest.mark.parametrize("fail_mode", ["closed", "open"])
def test_a_password_protected_redis(fail_mode):
    password = "s3cret-redis-pass-" + uuid.uuid4().hex[:8]
    wrong = "wrong-redis-pass-" + uuid.uuid4().hex[:8]
    with RedisServer(password=password) as server:
        log = io.StringIO()
        right_app = quota_app(server.url, {"*": {"uploadsPerDay": 1}}, log=log, QUOTA_FAIL_MODE=fail_mode)
        user = new_user()
        right = [ask(right_app, user) for _ in range(2)]
        assert [r["statusCode"] for r in right] == [200, 429]
        wrong_app = quota_app(server.url_with_password(wrong), {"*": {"uploadsPerDay": 1}}, log=log,
                              QUOTA_FAIL_MODE=fail_mode)
        answered = ask(wrong_app, user)
        assert answered["statusCode"] == (503 if fail_mode == "closed" else 200)
        outage = [line for line in log_lines(log) if line["event"] == "quota_unavailable"]
        assert len(outage) == 1 and "Authentication" in outage[0]["reason"]
    text = log.getvalue() + "".join(r["body"] + json.dumps(r["headers"]) for r in right + [answered])
    assert password not in text and wrong not in text


def test_a_bad_redis_url_is_a_config_error_that_hides_the_password():
    app = quota_app("http://:hunter2-secret@127.0.0.1:6379", {"*": {"uploadsPerDay": 1}})
    response = ask(app, "uexample1")
    assert response["statusCode"] == 500 and error_of(response)["code"] == "config_error"
    assert "QUOTA_REDIS_URL" in error_of(response)["message"] and "hunter2" not in response["body"]
    health = app.handle(http_event("GET", "/healthz"))
    assert health["statusCode"] == 500 and "hunter2" not in health["body"]


def test_quotas_without_a_redis_url_is_a_config_error():
    response = ask(quota_app(None, {"*": {"uploadsPerDay": 1}}), "uexample1")
    assert response["statusCode"] == 500 and "QUOTA_REDIS_URL" in error_of(response)["message"]


def test_redis_is_imported_only_with_quotas_on(redis_server):
    code = ("import sys, json; sys.path.insert(0, 'function'); import index;"
            "from types import SimpleNamespace as N;"
            "c = N(request_id='r', credentials=N(access_key_id='a', access_key_secret='b', security_token='t'));"
            "e = json.dumps({'body': json.dumps({'size': 1}), 'requestContext': {'http': {'method': 'POST', "
            "'path': '/v1/uploads'}}}).encode();"
            "index.initialize(c); r = index.handler(e, c); assert r['statusCode'] == 200, r;"
            "print('redis' in sys.modules)")
    env = {"OSS_BUCKET": "demo-bucket", "OSS_REGION": "cn-hangzhou", "AUTH_MODE": "anonymous", "PATH": "/usr/bin"}
    outputs = []
    for extra in ({}, {"QUOTA_REDIS_URL": redis_server.url, "QUOTAS": '{"*": {"uploadsPerDay": 1000}}'}):
        out = subprocess.run([sys.executable, "-c", code], env=dict(env, **extra), capture_output=True, text=True,
                             cwd=str(ROOT))
        assert out.returncode == 0, out.stderr
        outputs.append(out.stdout.strip().splitlines()[-1])
    assert outputs == ["False", "True"]


def test_make_local_with_redis_enforces_quotas_over_http_and_oss_refuses_more_than_declared(tmp_path):
    from formpost import encode_form, http, oss_error_code
    from stack import local_stack

    quotas = json.dumps({"*": {"uploadsPerDay": 2}})
    with local_stack(tmp_path, AUTH_MODE="anonymous", CALLBACK_URL="", LOCAL_REDIS="1", QUOTAS=quotas) as info:
        assert info["quotas"] is True
        answers = [http("POST", info["fc"] + "/v1/uploads", json.dumps({"size": 3}).encode(),
                        {"Content-Type": "application/json"}) for _ in range(3)]
        assert [a[0] for a in answers] == [200, 200, 429]
        assert int(answers[2][1]["Retry-After"]) > 0
        assert json.loads(answers[2][2])["error"]["code"] == "quota_exceeded"
        ticket = json.loads(answers[0][2])
        body, content_type = encode_form(ticket["fields"], b"abcd")  # one byte more than declared
        status, _, answer = http("POST", ticket["url"], body, {"Content-Type": content_type})
        assert (status, oss_error_code(answer)) == (400, "EntityTooLarge")
        body, content_type = encode_form(ticket["fields"], b"abc")
        assert http("POST", ticket["url"], body, {"Content-Type": content_type})[0] == 200


def test_a_lowered_limit_waits_for_enough_tickets_to_leave_the_window(redis_server):
    clock = Clock()
    generous = quota_app(redis_server.url, {"*": {"ticketsPerMinute": 5}}, clock)
    strict = quota_app(redis_server.url, {"*": {"ticketsPerMinute": 2}}, clock)  # a redeploy with a lower limit
    user = new_user()
    for _ in range(5):  # tickets at 0, 1, 2, 3 and 4 s
        assert ask(generous, user)["statusCode"] == 200
        clock.advance(1)
    clock.advance(-1)
    refused = ask(strict, user)
    assert refused["statusCode"] == 429 and refused["headers"]["Retry-After"] == "59"  # when the one at 3 s leaves
    clock.advance(59)
    assert statuses(strict, user, 2) == [200, 429]


def test_a_server_without_hello_like_redis_5_still_counts():
    # redis-py 8 would open with HELLO 3; servers before Redis 6 (and older Tair) do not know HELLO.
    with RedisServer(extra_args=["--rename-command", "HELLO", ""]) as server:
        app = quota_app(server.url, {"*": {"uploadsPerDay": 1}})
        user = new_user()
        assert statuses(app, user, 2) == [200, 429]


def test_an_acl_user_limited_to_the_quota_keys_and_commands():
    password = "acl-pass-" + uuid.uuid4().hex[:8]
    rules = ["on", ">" + password, "~ossgate:quota:*", "+evalsha", "+eval", "+client|setname",
             "+select", "+zremrangebyscore", "+zcard", "+zrange", "+zadd", "+pexpire", "+get", "+incr", "+incrby"]
    with RedisServer(extra_args=["--user", "ossgate"] + rules) as server:
        log = io.StringIO()
        app = quota_app("redis://ossgate:%s@127.0.0.1:%d/0" % (password, server.port),
                        {"*": {"uploadsPerDay": 1, "ticketsPerMinute": 5, "bytesPerDay": 1000}}, log=log)
        assert statuses(app, new_user(), 2) == [200, 429]
    assert "quota_unavailable" not in log.getvalue() and password not in log.getvalue()


def test_the_initializer_connects_ahead_of_the_first_ticket_and_survives_an_outage():
    import redis

    with RedisServer() as server:
        admin = redis.Redis.from_url(server.url)
        app = quota_app(server.url, {"*": {"uploadsPerDay": 5}})
        app.warm()
        assert [c["name"] for c in admin.client_list()].count("ossgate") == 1
        assert statuses(app, new_user(), 1) == [200]
        assert [c["name"] for c in admin.client_list()].count("ossgate") == 1  # the same connection, reused
        server.kill()
        log = io.StringIO()
        down = quota_app(server.url, {"*": {"uploadsPerDay": 5}}, log=log)
        down.warm()  # no exception: requests answer per QUOTA_FAIL_MODE
        assert [line["phase"] for line in log_lines(log) if line["event"] == "quota_unavailable"] == ["initialize"]
        assert ask(down, new_user())["statusCode"] == 503


def test_multipart_initiate_is_charged_and_a_refused_one_never_reaches_oss(redis_server, mocker):
    import oss2
    from types import SimpleNamespace

    init = mocker.patch.object(oss2.Bucket, "init_multipart_upload", return_value=SimpleNamespace(upload_id="U1"))
    app = quota_app(redis_server.url, {"*": {"uploadsPerDay": 3, "bytesPerDay": 5 * 1024 * 1024}})
    user = new_user()
    token, _ = sessions.mint(user, SESSION_SECRET.encode(), APPID, app.clock().timestamp(), 7200)
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + token}

    def initiate(size):
        return app.handle(http_event(path="/v1/multipart/uploads", body={"size": size}, headers=headers))

    assert ask(app, user, size=1024 * 1024)["statusCode"] == 200  # a form ticket: 1 MiB
    assert initiate(3 * 1024 * 1024)["statusCode"] == 200  # 4 MiB of 5 declared
    refused = initiate(2 * 1024 * 1024)
    assert refused["statusCode"] == 429 and "bytesPerDay" in error_of(refused)["message"]
    assert init.call_count == 1  # the refused initiate asked OSS for nothing
    assert initiate(1024 * 1024)["statusCode"] == 200  # the refused 2 MiB were not counted
    assert initiate(1)["statusCode"] == 429 and init.call_count == 2  # uploadsPerDay: 3 tickets of either kind
