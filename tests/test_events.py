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
