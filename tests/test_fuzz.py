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
