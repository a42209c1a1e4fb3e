"""No secret (access key secret, app secret, session secrets) in any response or log line, whatever happens."""

import io
import json
import logging

import pytest

from conftest import base_env, http_event
from ossgate import config
from ossgate.app import App
from ossgate.credentials import Credentials
from ossgate.log import JsonLogger

AK_SECRET = "AKsecret-do-not-leak-7f3a9c"
APP_SECRET = "wechat-app-secret-do-not-leak-1b2c"
SESSION_SECRET = "session-secret-do-not-leak-" + "x" * 20
SECRETS = (AK_SECRET, APP_SECRET, SESSION_SECRET)

REQUESTS = [
    http_event(body={"size": 1}),
    http_event(body={"size": 1}, headers={"Authorization": "Bearer " + SESSION_SECRET}),
    http_event(body={"size": 10 ** 12}),
    http_event(body="{bad"),
    http_event(method="GET", path="/generate_signature"),
    http_event(method="GET", path="/healthz"),
    http_event(method="OPTIONS", headers={"Origin": "https://a.example"}),
    http_event(path="/nowhere"),
    b"\xff\xfe garbage",
]


def run_all(app):
    return [app.handle(event) for event in REQUESTS]


@pytest.mark.parametrize("auth_mode", ["anonymous", "wechat"])
@pytest.mark.parametrize("failure", [None, "credentials", "crash"])
def test_no_secret_in_responses_or_logs(auth_mode, failure, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    log = io.StringIO()
    env = base_env(AUTH_MODE=auth_mode, WECHAT_APPID="wx1", WECHAT_SECRET=APP_SECRET, SESSION_SECRETS=SESSION_SECRET,
                   SEED_ROUTE="on")

    def provider(cfg, ctx):
        if failure == "crash":
            raise RuntimeError("exploded while holding %s and %s and %s" % SECRETS)
        if failure == "credentials":
            from ossgate.errors import CredentialsError
            raise CredentialsError("no credentials")
        return Credentials("AKID", AK_SECRET, "token")

    app = App(lambda: config.from_environ(env), credentials_provider=provider, logger=JsonLogger(log))
    responses = run_all(app)
    out = capsys.readouterr()
    everything = json.dumps(responses) + log.getvalue() + out.out + out.err + caplog.text
    assert log.getvalue(), "expected log lines"
    for secret in SECRETS:
        assert secret not in everything
    if failure == "crash" and auth_mode == "anonymous":
        assert "unhandled_exception" in log.getvalue()


def test_config_errors_do_not_echo_secret_values():
    env = base_env(AUTH_MODE="wechat", WECHAT_APPID="wx1", WECHAT_SECRET=APP_SECRET, SESSION_SECRETS="short-secret")
    app = App(lambda: config.from_environ(env), logger=JsonLogger(io.StringIO()))
    response = app.handle(http_event(body={"size": 1}))
    assert response["statusCode"] == 500
    assert "short-secret" not in response["body"] and APP_SECRET not in response["body"]
