"""CREDENTIALS_MODE=assume_role and default_chain, through alibabacloud-credentials with STS stubbed at its
HTTP call (pytest-mock): the library's own caching and refresh logic runs for real."""

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from conftest import base_env, http_event, response_json
from ossgate import config, credentials
from ossgate.app import App
from ossgate.errors import CredentialsError

ROLE = "acs:ram::1234567890123456:role/ossgate-upload"
RUNTIME = SimpleNamespace(request_id="r", credentials=SimpleNamespace(
    access_key_id="AKruntime", access_key_secret="SKruntime-secret", security_token="TOKruntime"))


def sts_answer(expires_in=3600, status=200):
    expiration = (datetime.now(timezone.utc) + timedelta(seconds=expires_in)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"RequestId": "x", "Credentials": {"AccessKeyId": "STS.AKnarrow", "AccessKeySecret": "SKnarrow-secret",
                                              "SecurityToken": "TOKnarrow", "Expiration": expiration}}
    return SimpleNamespace(status_code=status, body=json.dumps(body).encode())


@pytest.fixture
def sts(mocker):
    return mocker.patch("Tea.core.TeaCore.do_action", return_value=sts_answer())


def assume_role_app(**overrides):
    env = base_env(CREDENTIALS_MODE="assume_role", OSS_STS_ROLE_ARN=ROLE, **overrides)
    return App(lambda: config.from_environ(env))


def test_one_sts_call_serves_many_tickets(sts):
    app = assume_role_app()
    for _ in range(20):
        ticket = response_json(app.handle(http_event(body={"size": 1}), RUNTIME))
        assert ticket["fields"]["x-oss-credential"].startswith("STS.AKnarrow/")
        assert ticket["fields"]["x-oss-security-token"] == "TOKnarrow"
    assert sts.call_count == 1
    request = sts.call_args[0][0]
    assert request.query["Action"] == "AssumeRole" and request.query["RoleArn"] == ROLE
    assert request.query["AccessKeyId"] == "AKruntime" and request.query["SecurityToken"] == "TOKruntime"
    assert request.headers["host"] == "sts.cn-hangzhou.aliyuncs.com"
    policy = json.loads(request.query["Policy"])
    assert policy["Statement"][0]["Resource"] == ["acs:oss:*:*:demo-bucket/uploads/*"]
    assert set(policy["Statement"][0]["Action"]) == {"oss:PutObject", "oss:GetObject", "oss:ListParts",
                                                     "oss:AbortMultipartUpload"}  # multipart complete and abort


def test_ticket_expiry_is_capped_by_the_sts_expiry(sts):
    sts.return_value = sts_answer(expires_in=1200)  # 20 min; the SDK refreshes 15 min before expiry
    app = assume_role_app(TICKET_TTL_SECONDS="3600")
    ticket = response_json(app.handle(http_event(body={"size": 1}), RUNTIME))
    expires = datetime.strptime(ticket["expiresAt"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    sts_expiry = datetime.now(timezone.utc) + timedelta(seconds=1200)
    assert expires <= sts_expiry - timedelta(seconds=59)


@pytest.mark.parametrize("failure", [RuntimeError("connect timeout SKruntime-secret"), None])
def test_sts_failure_is_503_without_secrets(sts, failure):
    if failure is None:
        sts.return_value = SimpleNamespace(status_code=403, body=b'{"Code":"NoPermission","Message":"SKruntime-secret"}')
    else:
        sts.side_effect = failure
    response = assume_role_app().handle(http_event(body={"size": 1}), RUNTIME)
    assert response["statusCode"] == 503
    assert response_json(response)["error"]["code"] == "credentials_unavailable"
    assert "SKruntime-secret" not in response["body"]


def test_assume_role_without_runtime_credentials_is_503(sts):
    response = assume_role_app().handle(http_event(body={"size": 1}), SimpleNamespace(request_id="r"))
    assert response["statusCode"] in (503,)
    assert sts.call_count == 0


def test_default_chain_uses_the_environment(sdk_environment):
    sdk_environment(ALIBABA_CLOUD_ACCESS_KEY_ID="AKchain", ALIBABA_CLOUD_ACCESS_KEY_SECRET="SKchain")
    source = credentials.CredentialsSource(config.from_environ(base_env(CREDENTIALS_MODE="default_chain")))
    creds = source.get(None)
    assert (creds.access_key_id, creds.access_key_secret) == ("AKchain", "SKchain")


def test_default_chain_with_nothing_is_503(sdk_environment, mocker):
    sdk_environment()
    network = mocker.patch("Tea.core.TeaCore.do_action", side_effect=AssertionError("no network in tests"))
    source = credentials.CredentialsSource(config.from_environ(base_env(CREDENTIALS_MODE="default_chain")))
    with pytest.raises(CredentialsError):
        source.get(None)
    assert network.call_count == 0


def test_runtime_mode_never_imports_the_sdk():
    source = credentials.CredentialsSource(config.from_environ(base_env()))
    assert source.get(RUNTIME).access_key_id == "AKruntime"
    assert source._provider is None


def test_credentials_are_refreshed_before_they_expire(sts):
    # the SDK treats credentials as stale 15 minutes before expiry: a 10-minute answer is refreshed on next use
    sts.side_effect = [sts_answer(expires_in=600), sts_answer(expires_in=3600), sts_answer(expires_in=3600)]
    app = assume_role_app()
    for _ in range(4):
        assert app.handle(http_event(body={"size": 1}), RUNTIME)["statusCode"] == 200
    assert sts.call_count == 2
