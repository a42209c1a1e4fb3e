"""Thousands of malformed events: the handler never raises, always answers the four-field dict with a JSON
body, and never answers a client's mistake with a 5xx."""

import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, FIXED_NOW, SECURITY_TOKEN, base_env
from ossgate import config
from ossgate.app import App
from ossgate.credentials import Credentials
from ossgate.log import JsonLogger

APP = App(lambda: config.from_environ(base_env(CORS_ALLOW_ORIGINS="https://a.example")),
          credentials_provider=lambda cfg, ctx: Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET, SECURITY_TOKEN),
          clock=lambda: FIXED_NOW, logger=JsonLogger(io.StringIO()))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12)
ticket_bodies = st.fixed_dictionaries({}, optional={
    "size": st.integers(-5, 2 ** 40) | json_values, "contentType": st.text(max_size=40) | json_values,
    "filename": st.text(max_size=60) | json_values, "profile": st.text(max_size=12) | json_values,
}) | st.dictionaries(st.text(max_size=10), json_values, max_size=5)
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH"]) | st.text(max_size=8)
paths = st.sampled_from(["/v1/uploads", "/generate_signature", "/healthz", "/", "/v1/uploads/", "/v1/session",
                         "/v1/downloads", "/v1/oss-callback"]) | st.text(max_size=30)
headers = st.dictionaries(st.sampled_from(["Content-Type", "authorization", "ORIGIN", "x-any"]) | st.text(max_size=10),
                          st.text(max_size=40) | json_values, max_size=4) | json_values
bodies = ticket_bodies.map(json.dumps) | st.text(max_size=200) | json_values


def event_strategy():
    http = st.fixed_dictionaries({"method": methods, "path": paths},
                                 optional={"sourceIp": json_values, "protocol": json_values})
    context = st.fixed_dictionaries({"http": http | json_values}, optional={"requestId": json_values})
    structured = st.fixed_dictionaries(
        {"requestContext": context | json_values},
        optional={"body": bodies, "isBase64Encoded": st.booleans() | json_values, "headers": headers,
                  "queryParameters": headers, "rawPath": paths | json_values, "version": json_values})
    return structured.map(lambda e: json.dumps(e).encode()) | st.binary(max_size=300) | \
        json_values.map(lambda v: json.dumps(v).encode())


def check(response):
    assert set(response) == {"statusCode", "headers", "isBase64Encoded", "body"}
    assert isinstance(response["statusCode"], int) and 200 <= response["statusCode"] < 500, response
    if response["body"]:
        body = json.loads(response["body"])
        if response["statusCode"] >= 400:
            assert set(body["error"]) == {"code", "message", "requestId"}
    assert ACCESS_KEY_SECRET not in json.dumps(response)


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_strategy())
def test_malformed_events_never_crash_or_5xx(event):
    check(APP.handle(event))


@settings(max_examples=1500, deadline=None)
@given(ticket_bodies)
def test_ticket_bodies(body):
    event = {"body": json.dumps(body), "headers": {"content-type": "application/json"},
             "requestContext": {"http": {"method": "POST", "path": "/v1/uploads"}}}
    response = APP.handle(json.dumps(event).encode())
    check(response)
    if response["statusCode"] == 200:
        ticket = json.loads(response["body"])
        assert ticket["key"].startswith("uploads/anonymous/default/2026/11/29/")
        assert isinstance(body.get("size"), int) and 1 <= body["size"] <= 10 * 1024 * 1024


# --- the session, callback and download routes (AUTH_MODE=wechat, callbacks on) --------------------------

from unittest import mock  # noqa: E402

from ossgate import sessions  # noqa: E402
from ossgate.callbacks import PublicKeyCache  # noqa: E402

SECRET = "f" * 40
WECHAT_APP = App(lambda: config.from_environ(base_env(
    AUTH_MODE="wechat", WECHAT_APPID="wx1", WECHAT_SECRET="app-secret-x", SESSION_SECRETS=SECRET,
    CALLBACK_URL="https://api.example.com/v1/oss-callback")),
    credentials_provider=lambda cfg, ctx: Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET, SECURITY_TOKEN),
    clock=lambda: FIXED_NOW, logger=JsonLogger(io.StringIO()),
    callback_keys=PublicKeyCache(lambda url: (_ for _ in ()).throw(AssertionError("no fetch in fuzzing"))))
TOKEN = sessions.mint("u" + "1" * 31, SECRET.encode(), "wx1", FIXED_NOW.timestamp(), 600)[0]
WECHAT_ANSWERS = st.sampled_from([{"errcode": 40029}, {"errcode": 40163}, {"errcode": 45011}, {"errcode": 40226},
                                  {"openid": "o-fuzz"}, {"openid": ""}, {"errcode": "x"}, {}])


def post(path, body, headers):
    return json.dumps({"body": body, "headers": headers,
                       "requestContext": {"http": {"method": "POST", "path": path}}}).encode()


@settings(max_examples=800, deadline=None)
@given(bodies, WECHAT_ANSWERS)
def test_session_route(body, answer):
    with mock.patch("ossgate.wechat._fetch", return_value=answer):
        response = WECHAT_APP.handle(post("/v1/session", body, {"content-type": "application/json"}))
    status = response["statusCode"]
    if answer.get("openid") and status == 200:
        assert set(json.loads(response["body"])) == {"token", "expiresAt", "userId"}
    assert status in (200, 400, 401, 403, 413, 429) or (status == 502 and "openid" not in answer), response


@settings(max_examples=800, deadline=None)
@given(bodies, headers)
def test_callback_route_refuses_everything_unsigned(body, extra_headers):
    request_headers = extra_headers if isinstance(extra_headers, dict) else {}
    response = WECHAT_APP.handle(post("/v1/oss-callback", body, request_headers))
    assert response["statusCode"] in (400, 403, 413), response


keys_strategy = st.text(max_size=80) | st.builds(lambda tail: "uploads/u" + "1" * 31 + "/" + tail, st.text(max_size=40))


@settings(max_examples=800, deadline=None)
@given(keys_strategy | json_values)
def test_download_route(key):
    response = WECHAT_APP.handle(post("/v1/downloads", json.dumps({"key": key}),
                                      {"authorization": "Bearer " + TOKEN}))
    check(response)
    if response["statusCode"] == 200:
        own = "uploads/u" + "1" * 31 + "/"
        assert isinstance(key, str) and key.startswith(own) and ".." not in key.split("/")
