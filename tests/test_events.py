"""The events/ files are HTTP-trigger events shaped like the fc3 component's template, and the handler answers them."""

import json

import pytest

from conftest import FC3_DATA, ROOT, response_json

EVENTS = sorted((ROOT / "events").glob("*.json"))
EXPECTED = {"upload-ticket.json": 200, "generate-signature.json": 200, "healthz.json": 200, "preflight.json": 204,
            "bad-request.json": 400, "session.json": 404}  # anonymous mode: no sessions


@pytest.fixture
def index(clean_environ):
    import index as module
    for name, value in {"OSS_BUCKET": "demo-bucket", "OSS_REGION": "cn-hangzhou", "AUTH_MODE": "anonymous",
                        "CORS_ALLOW_ORIGINS": "https://app.example.com", "ALIBABA_CLOUD_ACCESS_KEY_ID": "AK",
                        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SK", "SEED_ROUTE": "on"}.items():
        clean_environ.setenv(name, value)
    module._app = None
    yield module
    module._app = None


def test_events_have_the_templates_shape():
    with open(FC3_DATA / "http-event-template.json") as source:
        template = json.load(source)
    assert EVENTS
    for path in EVENTS:
        event = json.loads(path.read_text())
        assert set(template) <= set(event), path.name
        assert set(template["requestContext"]["http"]) <= set(event["requestContext"]["http"]), path.name


@pytest.mark.parametrize("name, status", sorted(EXPECTED.items()))
def test_handler_answers_each_event(index, name, status):
    response = index.handler((ROOT / "events" / name).read_bytes(), None)
    assert response["statusCode"] == status, response_json(response)


WECHAT_SETTINGS = {"AUTH_MODE": "wechat", "WECHAT_APPID": "wx0123456789abcdef", "WECHAT_SECRET": "app-secret",
                   "SESSION_SECRETS": "s" * 32, "WECHAT_API_BASE": "http://127.0.0.1:9"}  # nothing listens there


@pytest.fixture
def wechat_index(index, clean_environ):
    for name, value in WECHAT_SETTINGS.items():
        clean_environ.setenv(name, value)
    index._app = None
    return index


def prepared(name, **options):
    from tools import event as event_tool
    return json.dumps(event_tool.prepare(json.loads((ROOT / "events" / name).read_text()), **options)).encode()


def test_wechat_mode_upload_ticket_needs_the_callers_session_token(wechat_index):
    """README "Invoke": AUTH_MODE=wechat answers the event as is with 401, and with SESSION_TOKEN=<token> with a ticket."""
    import time

    from ossgate import sessions
    assert wechat_index.handler(prepared("upload-ticket.json"), None)["statusCode"] == 401
    user_id = sessions.user_id_for(WECHAT_SETTINGS["WECHAT_APPID"], "o-openid-of-a-user")
    token, _ = sessions.mint(user_id, WECHAT_SETTINGS["SESSION_SECRETS"].encode(),
                             WECHAT_SETTINGS["WECHAT_APPID"], int(time.time()), 600)
    response = wechat_index.handler(prepared("upload-ticket.json", token=token), None)
    assert response["statusCode"] == 200, response_json(response)
    assert response_json(response)["key"].startswith("uploads/%s/" % user_id)


def test_wechat_mode_session_event_takes_the_wx_login_code(wechat_index):
    """With WX_CODE the code reaches WeChat (unreachable here: 502 upstream_error, not a 400 for the placeholder)."""
    event = json.loads(prepared("session.json", code="0a1b2c3d"))
    assert json.loads(event["body"]) == {"code": "0a1b2c3d"}
    response = wechat_index.handler(json.dumps(event).encode(), None)
    assert response["statusCode"] == 502 and response_json(response)["error"]["code"] == "upstream_error"
