import base64
import os
import io
import json

import pytest

from conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, FIXED_NOW, SECURITY_TOKEN, base_env, http_event, response_json
from ossgate import config
from ossgate.app import App
from ossgate.credentials import Credentials
from ossgate.errors import CredentialsError
from ossgate.log import JsonLogger


def make_app(log=None, credentials_provider=None, **overrides):
    env = base_env(**overrides)
    return App(lambda: config.from_environ(env),
               credentials_provider=credentials_provider or (
                   lambda cfg, ctx: Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET, SECURITY_TOKEN)),
               clock=lambda: FIXED_NOW, random_id=lambda: "0" * 32, logger=JsonLogger(log or io.StringIO()))


def test_upload_ticket_round_trip():
    response = make_app().handle(http_event(body={"size": 3, "contentType": "text/plain", "filename": "a.txt"}))
    assert response["statusCode"] == 200
    assert set(response) == {"statusCode", "headers", "isBase64Encoded", "body"}
    assert response["headers"]["Content-Type"].startswith("application/json")
    ticket = response_json(response)
    assert ticket["key"] == "uploads/anonymous/default/2026/11/29/" + "0" * 32 + ".txt"
    assert ticket["url"] == "https://demo-bucket.oss-cn-hangzhou.aliyuncs.com"


def test_base64_body_and_any_header_case():
    body = base64.b64encode(json.dumps({"size": 3}).encode()).decode()
    response = make_app().handle(http_event(body=body, base64_body=True, headers={"CONTENT-TYPE": "application/json"}))
    assert response["statusCode"] == 200


@pytest.mark.parametrize("event, status, code", [
    (b"not json", 400, "bad_request"),
    (b"[]", 400, "bad_request"),
    (http_event(body="{"), 400, "bad_request"),
    (http_event(body=""), 400, "bad_request"),
    (http_event(body="bm90IGpzb24=", base64_body=True), 400, "bad_request"),
    (http_event(body="!!!", base64_body=True), 400, "bad_request"),
    (http_event(body={"size": 1}, path="/v1/nothing"), 404, "not_found"),
    (http_event(method="GET"), 405, "method_not_allowed"),
    (http_event(body={"size": 10 ** 9}), 413, "file_too_large"),
    (http_event(body="x" * 70000), 413, "request_too_large"),
    (http_event(body={"size": 1, "profile": "avatar"}), 404, "unknown_profile"),
])
def test_client_errors(event, status, code):
    response = make_app().handle(event)
    body = response_json(response)
    assert response["statusCode"] == status
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["error"]["requestId"]


def test_method_not_allowed_lists_allowed_methods():
    response = make_app().handle(http_event(method="DELETE"))
    assert response["headers"]["Allow"] == "POST, OPTIONS"


def test_request_id_comes_from_the_event():
    body = response_json(make_app().handle(http_event(path="/nope", request_id="abc-123")))
    assert body["error"]["requestId"] == "abc-123"


def test_config_error_is_500_naming_the_variable_and_healthz_reports_it():
    app = make_app(AUTH_MODE=None)
    response = app.handle(http_event(body={"size": 1}))
    assert response["statusCode"] == 500
    assert response_json(response)["error"] == {
        "code": "config_error", "message": "AUTH_MODE must be one of wechat, anonymous, got None",
        "requestId": "req-test-1"}
    health = app.handle(http_event(method="GET", path="/healthz"))
    assert health["statusCode"] == 500
    assert response_json(health)["ok"] is False
    assert "AUTH_MODE" in response_json(health)["error"]["message"]


def test_healthz_ok():
    response = make_app().handle(http_event(method="GET", path="/healthz/"))
    assert response["statusCode"] == 200
    assert response_json(response)["ok"] is True and response_json(response)["version"]


def test_missing_credentials_is_503():
    def none(cfg, ctx):
        raise CredentialsError("no credentials")
    response = make_app(credentials_provider=none).handle(http_event(body={"size": 1}))
    assert response["statusCode"] == 503
    assert response_json(response)["error"]["code"] == "credentials_unavailable"


def test_unexpected_exception_is_500_with_request_id_and_traceback_logged():
    log = io.StringIO()

    def broken(cfg, ctx):
        raise RuntimeError("boom " + ACCESS_KEY_SECRET)
    response = make_app(log=log, credentials_provider=broken).handle(http_event(body={"size": 1}))
    assert response["statusCode"] == 500
    assert response_json(response)["error"]["code"] == "internal_error"
    assert "boom" not in response["body"]
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    assert lines[0]["event"] == "unhandled_exception"
    assert lines[0]["exception"][0]["type"] == "builtins.RuntimeError"
    assert any("in broken" in frame for frame in lines[0]["exception"][0]["frames"])
    assert ACCESS_KEY_SECRET not in log.getvalue() and "boom" not in log.getvalue()
    assert lines[0]["requestId"] == "req-test-1"


def test_seed_route():
    response = make_app(SEED_ROUTE="on").handle(http_event(method="GET", path="/generate_signature", body=None))
    answer = response_json(response)
    assert response["statusCode"] == 200
    assert answer["dir"] == "uploads/anonymous/_seed/" and answer["security_token"] == SECURITY_TOKEN


@pytest.mark.parametrize("setting", [None, "off"])
def test_seed_route_is_not_found_unless_enabled(setting):
    for auth in ({}, {"AUTH_MODE": "wechat", "WECHAT_APPID": "wx1", "WECHAT_SECRET": "s", "SESSION_SECRETS": "s" * 32}):
        response = make_app(SEED_ROUTE=setting, **auth).handle(
            http_event(method="GET", path="/generate_signature", body=None))
        assert (response["statusCode"], response_json(response)["error"]["code"]) == (404, "not_found")


def test_cors_preflight_and_headers():
    app = make_app(CORS_ALLOW_ORIGINS="https://app.example")
    preflight = app.handle(http_event(method="OPTIONS", headers={"Origin": "https://app.example",
                                                                 "Access-Control-Request-Method": "POST"}))
    assert preflight["statusCode"] == 204 and preflight["body"] == ""
    assert preflight["headers"]["Access-Control-Allow-Origin"] == "https://app.example"
    assert "authorization" in preflight["headers"]["Access-Control-Allow-Headers"]
    other = app.handle(http_event(method="OPTIONS", headers={"Origin": "https://evil.example"}))
    assert "Access-Control-Allow-Origin" not in other["headers"]
    normal = app.handle(http_event(body={"size": 1}, headers={"origin": "https://app.example"}))
    assert normal["headers"]["Access-Control-Allow-Origin"] == "https://app.example"
    assert normal["headers"]["Vary"] == "Origin"
    star = make_app(CORS_ALLOW_ORIGINS="*").handle(http_event(body={"size": 1}, headers={"Origin": "https://x.y"}))
    assert star["headers"]["Access-Control-Allow-Origin"] == "*"


def test_wechat_mode_requires_a_session():
    app = make_app(AUTH_MODE="wechat", WECHAT_APPID="wx1", WECHAT_SECRET="app-secret-123",
                   SESSION_SECRETS="k" * 32)
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = app.handle(http_event(body={"size": 1}, headers=headers))
        assert response["statusCode"] == 401
        assert response_json(response)["error"]["code"] == "unauthorized"


def test_access_log_line_per_request():
    log = io.StringIO()
    make_app(log=log).handle(http_event(body={"size": 1}))
    record = json.loads(log.getvalue().splitlines()[-1])
    assert record["event"] == "request" and record["status"] == 200 and record["route"] == "/v1/uploads"
    assert record["requestId"] == "req-test-1" and record["latencyMs"] >= 0


def test_random_ids_are_unique_hex_and_read_in_batches():
    from ossgate.app import RandomIds
    reads = []

    def read(n):
        reads.append(n)
        return os.urandom(n)
    ids = RandomIds(read)
    made = [ids() for _ in range(200)]
    assert len(set(made)) == 200 and all(len(i) == 32 and int(i, 16) >= 0 for i in made)
    assert reads == [16 * RandomIds.BATCH] * 4


MODERATED_ENV = dict(AUTH_MODE="wechat", WECHAT_APPID="wx1", WECHAT_SECRET="app-secret", SESSION_SECRETS="s" * 32,
                     CALLBACK_URL="https://fn.example/v1/oss-callback", MODERATION="wechat",
                     WECHAT_PUSH_TOKEN="pushTok1")


def push_query(token="pushTok1", timestamp=None, nonce="31337", **extra):
    import hashlib

    timestamp = str(int(FIXED_NOW.timestamp()) if timestamp is None else timestamp)
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return dict({"signature": signature, "timestamp": timestamp, "nonce": nonce}, **extra)


def no_credentials(cfg, ctx):
    raise AssertionError("a refused push must not reach OSS")


def test_push_url_check_answers_echostr_as_text():
    app = make_app(credentials_provider=no_credentials, **MODERATED_ENV)
    response = app.handle(http_event(method="GET", path="/v1/wechat/push", query=push_query(echostr="e-42")))
    assert (response["statusCode"], response["body"]) == (200, "e-42")
    assert response["headers"]["Content-Type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("query", [push_query(token="wrong"), {}, push_query(timestamp=1)])
def test_unverified_pushes_are_refused_before_any_oss_call(query):
    app = make_app(credentials_provider=no_credentials, **MODERATED_ENV)
    body = {"appid": "wx1", "Event": "wxa_media_check", "trace_id": "t", "result": {"suggest": "risky"}}
    response = app.handle(http_event(path="/v1/wechat/push", query=query, body=body))
    assert response["statusCode"] == 401 and response_json(response)["error"]["code"] == "invalid_push_signature"


def test_moderation_routes_are_off_by_default():
    app = make_app()
    assert make_app().handle(http_event(method="GET", path="/v1/wechat/push"))["statusCode"] == 404
    response = app.handle(http_event(path="/v1/moderation/status", body={"key": "uploads/anonymous/x.png"}))
    assert response["statusCode"] == 404


def test_moderation_uses_the_function_roles_credentials_under_assume_role(monkeypatch):
    from types import SimpleNamespace

    from ossgate.app import Invocation

    runtime = SimpleNamespace(access_key_id="runtime-id", access_key_secret="runtime-secret", security_token="t")
    narrowed = Credentials("narrow-id", "narrow-secret", "t")
    app = make_app(credentials_provider=lambda cfg, ctx: narrowed, CREDENTIALS_MODE="assume_role",
                   OSS_STS_ROLE_ARN="acs:ram::123:role/ossgate", **MODERATED_ENV)
    context = SimpleNamespace(credentials=runtime, request_id="r1")
    inv = Invocation(app, None, context, FIXED_NOW)
    assert inv.credentials().access_key_id == "narrow-id"
    assert inv.moderation_credentials().access_key_id == "runtime-id"
