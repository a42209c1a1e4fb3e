"""End to end over real HTTP: local FC server → ticket → multipart POST of real bytes → local OSS."""

import hashlib
import json
import os

import pytest

from local.oss.store import Store
from formpost import encode_form, http, oss_error_code, post_json
from stack import local_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with local_stack(tmp_path_factory.mktemp("e2e"), AUTH_MODE="anonymous") as info:
        yield info


def stored_bytes(stack, key):
    return Store(stack["data"], stack["bucket"]).get(key)[1]


def test_upload_lands_byte_identical(stack):
    data = os.urandom(200_000) + b"\r\n--boundary-lookalike\r\n" + bytes(range(256))
    status, ticket = post_json(stack["fc"] + "/v1/uploads",
                               {"size": len(data), "contentType": "image/jpeg", "filename": "photo.JPG"})
    assert status == 200, ticket
    assert ticket["key"].startswith("uploads/anonymous/default/") and ticket["key"].endswith(".jpg")
    body, content_type = encode_form(ticket["fields"], data, filename="photo.JPG", file_type="image/jpeg")
    status, headers, answer = http("POST", ticket["url"], body, {"Content-Type": content_type})
    assert status == 200
    assert headers["ETag"].strip('"').lower() == hashlib.md5(data).hexdigest()
    assert stored_bytes(stack, ticket["key"]) == data
    # the bucket relays the function's verified-callback answer to the uploader
    assert json.loads(answer) == {"key": ticket["key"], "size": len(data), "etag": headers["ETag"].strip('"'),
                                  "mimeType": "image/jpeg"}


def test_without_callbacks_the_answer_is_empty(tmp_path):
    with local_stack(tmp_path, AUTH_MODE="anonymous", CALLBACK_URL="") as info:
        status, ticket = post_json(info["fc"] + "/v1/uploads", {"size": 3})
        assert "callback" not in ticket["fields"]
        body, content_type = encode_form(ticket["fields"], b"abc")
        assert http("POST", ticket["url"], body, {"Content-Type": content_type})[::2] == (200, b"")


def test_second_upload_with_the_same_ticket_is_refused(stack):
    status, ticket = post_json(stack["fc"] + "/v1/uploads", {"size": 3})
    body, content_type = encode_form(ticket["fields"], b"abc")
    assert http("POST", ticket["url"], body, {"Content-Type": content_type})[0] == 200
    status, _, answer = http("POST", ticket["url"], body, {"Content-Type": content_type})
    assert (status, oss_error_code(answer)) == (409, "FileAlreadyExists")


def test_function_errors_over_http(stack):
    status, body = post_json(stack["fc"] + "/v1/uploads", {"size": 0})
    assert status == 400 and body["error"]["code"] == "bad_request"
    status, headers, raw = http("GET", stack["fc"] + "/healthz")
    assert status == 200 and b'"ok":true' in raw
    assert headers["x-fc-request-id"]


def test_cors_on_both_servers(stack):
    status, headers, _ = http("OPTIONS", stack["fc"] + "/v1/uploads", None,
                              {"Origin": "http://127.0.0.1:1", "Access-Control-Request-Method": "POST"})
    assert status == 204 and headers["Access-Control-Allow-Origin"] == "*"
    status, headers, _ = http("OPTIONS", stack["oss"] + "/" + stack["bucket"], None,
                              {"Origin": "http://127.0.0.1:1", "Access-Control-Request-Method": "POST"})
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:1"


def test_reserved_fc_headers_are_rejected_like_fc(stack):
    status, _, _ = http("GET", stack["fc"] + "/healthz", None, {"X-Fc-Something": "1"})
    assert status == 400


def test_stack_stops_cleanly(tmp_path):
    with local_stack(tmp_path) as info:
        process = info["process"]
    assert process.poll() is not None
    import socket
    for url in (info["fc"], info["oss"]):
        port = int(url.rsplit(":", 1)[1])
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0
