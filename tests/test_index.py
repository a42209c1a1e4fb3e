"""The FC entry points with credentials from the context (python3.10) and from the environment (python3.12)."""

import importlib
import sys
from types import SimpleNamespace

import pytest

from conftest import http_event, response_json


@pytest.fixture
def index(clean_environ):
    clean_environ.setenv("OSS_BUCKET", "demo-bucket")
    clean_environ.setenv("OSS_REGION", "cn-hangzhou")
    clean_environ.setenv("AUTH_MODE", "anonymous")
    module = importlib.import_module("index")
    module._app = None
    yield module
    module._app = None


def context_with(**creds):
    return SimpleNamespace(request_id="ctx-req", credentials=SimpleNamespace(**creds) if creds else None)


def test_credentials_from_context(index):
    index.initialize(context_with())
    ctx = context_with(access_key_id="AKctx", access_key_secret="SKctx", security_token="TOKctx")
    ticket = response_json(index.handler(http_event(body={"size": 1}), ctx))
    assert ticket["fields"]["x-oss-credential"].startswith("AKctx/")
    assert ticket["fields"]["x-oss-security-token"] == "TOKctx"


def test_credentials_from_environment_when_context_has_none(index, clean_environ):
    clean_environ.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "AKenv")
    clean_environ.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "SKenv")
    ticket = response_json(index.handler(http_event(body={"size": 1}), SimpleNamespace(request_id="r")))
    assert ticket["fields"]["x-oss-credential"].startswith("AKenv/")
    assert "x-oss-security-token" not in ticket["fields"]


def test_credentials_are_read_per_invocation(index, clean_environ):
    clean_environ.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "AKone")
    clean_environ.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "SKone")
    first = response_json(index.handler(http_event(body={"size": 1}), None))
    clean_environ.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "AKtwo")
    second = response_json(index.handler(http_event(body={"size": 1}), None))
    assert first["fields"]["x-oss-credential"].startswith("AKone/")
    assert second["fields"]["x-oss-credential"].startswith("AKtwo/")


def test_no_credentials_is_503(index):
    response = index.handler(http_event(body={"size": 1}), context_with())
    assert response["statusCode"] == 503
    assert response_json(response)["error"]["code"] == "credentials_unavailable"


def test_ticket_path_imports_neither_sdk(index):
    import subprocess
    code = ("import sys, json; sys.path.insert(0, 'function'); import index;"
            "from types import SimpleNamespace as N;"
            "c = N(request_id='r', credentials=N(access_key_id='a', access_key_secret='b', security_token='t'));"
            "e = json.dumps({'body': json.dumps({'size': 1}), 'requestContext': {'http': {'method': 'POST', "
            "'path': '/v1/uploads'}}}).encode();"
            "r = index.handler(e, c); assert r['statusCode'] == 200, r;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('oss2', 'alibabacloud_credentials', "
            "'requests', 'Crypto', 'urllib')))")
    env = {"OSS_BUCKET": "demo-bucket", "OSS_REGION": "cn-hangzhou", "AUTH_MODE": "anonymous", "PATH": "/usr/bin",
           "CALLBACK_URL": "https://api.example.com/v1/oss-callback",  # tickets with a callback field too
           "SESSION_SECRETS": "c" * 32}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd=str(__import__("conftest").ROOT))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
