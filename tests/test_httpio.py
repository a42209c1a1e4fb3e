import json

import pytest

from ossgate import httpio
from ossgate.errors import RequestError


def event(**overrides):
    base = {"version": "v1", "rawPath": "/v1/a%20b/", "body": "", "isBase64Encoded": False,
            "headers": {"Content-Type": "application/json", "X-Multi": ["a", "b"], "Origin": "https://x"},
            "queryParameters": {"p": "1,2"},
            "requestContext": {"requestId": "rid", "http": {"method": "post", "path": "/v1/a b/", "sourceIp": "1.2.3.4"}}}
    base.update(overrides)
    return json.dumps(base).encode()


def test_parses_the_http_trigger_event():
    request = httpio.parse_event(event(body="aGk=", isBase64Encoded=True))
    assert (request.method, request.path, request.raw_path) == ("POST", "/v1/a b", "/v1/a%20b/")
    assert request.header("content-type") == "application/json" and request.header("ORIGIN") == "https://x"
    assert request.header("x-multi") == "a,b" and request.query == {"p": "1,2"}
    assert request.body == b"hi" and request.request_id == "rid" and request.source_ip == "1.2.3.4"


def test_falls_back_to_the_decoded_raw_path_and_the_given_request_id():
    raw = json.loads(event())
    del raw["requestContext"]["http"]["path"], raw["requestContext"]["requestId"]
    request = httpio.parse_event(raw, "fallback-id")
    assert request.path == "/v1/a b" and request.request_id == "fallback-id"


def test_repeated_header_names_in_different_case_are_joined():
    request = httpio.parse_event(event(headers={"Accept": "a", "accept": "b"}))
    assert request.header("accept") == "a,b"


@pytest.mark.parametrize("bad", [b"\xff", b"null", b"[]", json.dumps({"requestContext": {}}).encode(),
                                 event(body="@@@", isBase64Encoded=True), event(body=5)])
def test_unusable_events_are_400(bad):
    with pytest.raises(RequestError) as raised:
        httpio.parse_event(bad)
    assert raised.value.status == 400


def test_json_body_rules():
    ok = httpio.parse_event(event(body='{"a": 1}'))
    assert ok.json() == {"a": 1}
    for body, code in (("", "bad_request"), ("[1]", "bad_request"), ("{", "bad_request"),
                       ("x" * (httpio.MAX_BODY_BYTES + 1), "request_too_large")):
        with pytest.raises(RequestError) as raised:
            httpio.parse_event(event(body=body)).json()
        assert raised.value.code == code


def test_response_is_the_four_field_dict():
    answer = httpio.response(200, {"k": "中"}, {"X": "1"})
    assert answer == {"statusCode": 200, "isBase64Encoded": False, "body": '{"k":"中"}',
                      "headers": {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store",
                                  "X": "1"}}
    assert "Content-Type" not in httpio.response(204)["headers"] and httpio.response(204)["body"] == ""
