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
    response["body"].encode("utf-8")  # what FC sends: a lone surrogate here would fail the whole response


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


# --- shapes the security review used: deep nesting, lone surrogates, control characters in the key URL ------

import base64  # noqa: E402

from local import callback as local_callback  # noqa: E402
from ossgate import callbacks  # noqa: E402

CALLBACK_KEY = local_callback.load_or_create_key()


def public_pem(key):
    from cryptography.hazmat.primitives import serialization
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


SIGNED_APP = App(lambda: config.from_environ(base_env(
    AUTH_MODE="wechat", WECHAT_APPID="wx1", WECHAT_SECRET="app-secret-x", SESSION_SECRETS=SECRET,
    CALLBACK_URL="https://api.example.com/v1/oss-callback", OSS_CALLBACK_PUBLIC_KEY=public_pem(CALLBACK_KEY))),
    credentials_provider=lambda cfg, ctx: Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET, SECURITY_TOKEN),
    clock=lambda: FIXED_NOW, logger=JsonLogger(io.StringIO()))

openers = st.sampled_from(["[", '{"a":', '{"size":[', '[{"x":'])
deep_documents = st.builds(lambda opener, depth, tail: (opener * depth)[:65000] + tail, openers,
                           st.integers(2000, 60000), st.sampled_from(["", "1", "]" * 10, "}"]))
json_routes = st.sampled_from(["/v1/uploads", "/v1/session", "/v1/downloads", "/v1/oss-callback",
                               "/generate_signature"])


def signed_callback(body):
    return {"authorization": local_callback.sign(CALLBACK_KEY, "/v1/oss-callback", "", body.encode()),
            "content-type": "application/json"}


@settings(max_examples=60, deadline=None)
@given(deep_documents, json_routes, st.booleans())
def test_deeply_nested_json_is_a_400_on_every_json_route(document, path, with_session):
    """No auth needed for /v1/session; the callback route parses only a body OSS signed, so it is signed here."""
    headers = {"content-type": "application/json"}
    if with_session:
        headers["authorization"] = "Bearer " + TOKEN
    if path == "/v1/oss-callback":
        headers = signed_callback(document)
    response = SIGNED_APP.handle(post(path, document, headers))
    check(response)
    assert response["statusCode"] in (400, 401, 404, 405, 413), response


@settings(max_examples=60, deadline=None)
@given(st.integers(2000, 80000))
def test_a_deeply_nested_event_is_a_400(depth):
    check(SIGNED_APP.handle(b"[" * depth))
    assert SIGNED_APP.handle(b"[" * depth)["statusCode"] == 400


surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
surrogate_names = st.builds(lambda a, s, b: a + s + b, st.text(max_size=5), surrogates, st.text(max_size=5))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(surrogate_names, json_values, min_size=1, max_size=3), json_routes,
       st.text(max_size=3) | surrogate_names)
def test_lone_surrogates_in_field_names_get_an_encodable_4xx(fields, path, route_suffix):
    body = dict(fields, size=1)
    headers = {"content-type": "application/json", "authorization": "Bearer " + TOKEN}
    response = SIGNED_APP.handle(post(path, json.dumps(body), headers))
    check(response)
    assert 400 <= response["statusCode"] < 500
    response = APP.handle(post("/v1/uploads" + route_suffix, json.dumps(body), {}))
    check(response)
    assert 400 <= response["statusCode"] < 500


KEY_URL = "https://gosspublic.alicdn.com/callback_pub_key_v1.pem"  # OSS documentation
control_characters = st.characters(max_codepoint=0x1F) | st.sampled_from(["\x7f", " ", "\u0085"])


@settings(max_examples=300, deadline=None)
@given(st.integers(len("https://gosspublic.alicdn.com/"), len(KEY_URL)), control_characters)
def test_control_characters_in_the_key_url_are_a_403_without_any_fetch(position, character):
    """The real fetch_key: before the fix, a control character reached http.client and raised InvalidURL."""
    url = KEY_URL[:position] + character + KEY_URL[position:]
    app = App(lambda: config.from_environ(base_env(
        AUTH_MODE="anonymous", SESSION_SECRETS=SECRET, CALLBACK_URL="https://api.example.com/v1/oss-callback")),
        clock=lambda: FIXED_NOW, logger=JsonLogger(io.StringIO()),
        callback_keys=PublicKeyCache(callbacks.fetch_key))
    body = json.dumps({"bucket": "demo-bucket", "object": "uploads/anonymous/a"})
    headers = dict(signed_callback(body), **{"x-oss-pub-key-url": base64.b64encode(
        url.encode("utf-8")).decode()})
    response = app.handle(post("/v1/oss-callback", body, headers))
    check(response)
    assert response["statusCode"] == 403, response


def _no_oss(cfg, ctx):
    raise AssertionError("an unverified push must not reach OSS")


PUSH_TOKEN = "fuzzPush1"
MODERATED_APP = App(lambda: config.from_environ(base_env(
    AUTH_MODE="wechat", WECHAT_APPID="wx1", WECHAT_SECRET="app-secret-x", SESSION_SECRETS=SECRET,
    CALLBACK_URL="https://api.example.com/v1/oss-callback", MODERATION="wechat", WECHAT_PUSH_TOKEN=PUSH_TOKEN,
    WECHAT_PUSH_AES_KEY="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")),
    credentials_provider=_no_oss, clock=lambda: FIXED_NOW, logger=JsonLogger(io.StringIO()))


def signed(nonce):
    import hashlib

    timestamp = str(int(FIXED_NOW.timestamp()))
    return {"timestamp": timestamp, "nonce": nonce,
            "signature": hashlib.sha1("".join(sorted([PUSH_TOKEN, timestamp, nonce])).encode()).hexdigest()}


@settings(max_examples=800, deadline=None)
@given(st.sampled_from(["GET", "POST"]), headers, bodies, st.booleans(), st.text(max_size=40),
       st.text(max_size=60))
def test_push_route_refuses_everything_unverified(method, query, body, sign, encrypt_type, msg_signature):
    query = dict(query) if isinstance(query, dict) else {}
    if sign:  # a valid query signature: the safe-mode checks behind it must still refuse
        query.update(signed("12345"), encrypt_type=encrypt_type, msg_signature=msg_signature)
    response = MODERATED_APP.handle(json.dumps({
        "body": body, "headers": {"content-type": "application/json"}, "queryParameters": query,
        "requestContext": {"http": {"method": method, "path": "/v1/wechat/push"}}}).encode())
    if response["headers"].get("Content-Type", "").startswith("text/plain"):  # only a signed URL check
        assert (method, sign, response["statusCode"], response["body"]) == ("GET", True, 200, query["echostr"])
    else:
        check(response)
    if method == "POST" or not sign:
        assert response["statusCode"] in (400, 401, 413), response
