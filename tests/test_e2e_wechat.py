"""The whole local flow as a mini program drives it, over real HTTP: login → ticket → upload → verified
callback relayed by the bucket → presigned download. Plus the isolation claims of docs/threat-model.md."""

import json
import re

import pytest

from formpost import encode_form, http, oss_error_code, post_json
from stack import local_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with local_stack(tmp_path_factory.mktemp("wechat-e2e"), SEED_ROUTE="on") as info:
        assert info["authMode"] == "wechat" and info["callbacks"]
        yield info


def login(stack, code):
    status, session = post_json(stack["fc"] + "/v1/session", {"code": code})
    assert status == 200, session
    assert set(session) == {"token", "expiresAt", "userId"}
    return session


def upload(stack, token, data, **ticket_body):
    status, ticket = post_json(stack["fc"] + "/v1/uploads", dict({"size": len(data)}, **ticket_body),
                               {"Authorization": "Bearer " + token})
    assert status == 200, ticket
    body, content_type = encode_form(ticket["fields"], data, file_type=ticket_body.get("contentType", "text/plain"))
    status, headers, answer = http("POST", ticket["url"], body, {"Content-Type": content_type})
    return ticket, status, answer


def download(stack, token, key):
    return post_json(stack["fc"] + "/v1/downloads", {"key": key}, {"Authorization": "Bearer " + token})


def test_login_ticket_upload_callback_download(stack):
    session = login(stack, "alice-1")
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (32).to_bytes(4, "big") + (16).to_bytes(4, "big") + b"\x00" * 40
    ticket, status, answer = upload(stack, session["token"], png, contentType="image/png", filename="a.png")
    assert status == 200
    assert ticket["key"].startswith("uploads/%s/default/" % session["userId"])
    assert json.loads(answer) == {"key": ticket["key"], "size": len(png), "etag": json.loads(answer)["etag"],
                                  "mimeType": "image/png", "width": 32, "height": 16}
    status, link = download(stack, session["token"], ticket["key"])
    assert status == 200 and link["url"].startswith(ticket["url"] + "/")
    assert http("GET", link["url"])[::2] == (200, png)


def test_session_key_never_reaches_the_client(stack):
    status, headers, raw = http("POST", stack["fc"] + "/v1/session", json.dumps({"code": "carol"}).encode(),
                                {"Content-Type": "application/json"})
    # the stand-in's session keys are "sk-" + 22 hex, its openids "o-" + 26 hex; a bare "o-" can occur by chance
    # in a base64url token, so the whole shapes are looked for
    assert status == 200 and b"session_key" not in raw
    assert not re.search(rb"sk-[0-9a-f]{22}", raw) and not re.search(rb"o-[0-9a-f]{26}", raw)


def test_a_user_keeps_their_prefix_across_logins_and_users_never_share_one(stack):
    first, second, other = login(stack, "dave-1"), login(stack, "dave-2"), login(stack, "erin-1")
    assert first["userId"] == second["userId"] != other["userId"]
    assert first["token"] != second["token"]


def test_another_users_key_cannot_be_downloaded_or_written(stack):
    alice, mallory = login(stack, "alice-9"), login(stack, "mallory-1")
    ticket, status, _ = upload(stack, alice["token"], b"alice's data")
    assert status == 200
    status, body = download(stack, mallory["token"], ticket["key"])
    assert status == 403 and body["error"]["code"] == "forbidden"
    # Mallory's own ticket cannot be bent to Alice's key: the policy pins the exact key.
    status, evil = post_json(stack["fc"] + "/v1/uploads", {"size": 4}, {"Authorization": "Bearer " + mallory["token"]})
    fields = dict(evil["fields"], key=ticket["key"].replace(".txt", "-2.txt"))
    body, content_type = encode_form(fields, b"evil")
    status, _, answer = http("POST", evil["url"], body, {"Content-Type": content_type})
    assert (status, oss_error_code(answer)) == (403, "AccessDenied")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer v1.e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
                                     {"Authorization": "Token abc"}])
def test_routes_need_a_session(stack, headers):
    for path, payload in (("/v1/uploads", {"size": 1}), ("/v1/downloads", {"key": "uploads/x/y"})):
        status, body = post_json(stack["fc"] + path, payload, headers)
        assert status == 401 and body["error"]["code"] == "unauthorized"
    status, _, raw = http("GET", stack["fc"] + "/generate_signature", None, headers)
    assert status == 401


@pytest.mark.parametrize("code, status, error", [("invalid", 401, "invalid_code"), ("ratelimit", 429, "rate_limited"),
                                                 ("blocked", 403, "user_blocked"), ("busy", 502, "upstream_error")])
def test_login_errors(stack, code, status, error):
    answer_status, body = post_json(stack["fc"] + "/v1/session", {"code": code})
    assert (answer_status, body["error"]["code"]) == (status, error)


def test_used_code_is_refused(stack):
    login(stack, "frank-1")
    status, body = post_json(stack["fc"] + "/v1/session", {"code": "frank-1"})
    assert (status, body["error"]["code"]) == (401, "invalid_code")


def test_forged_callback_is_refused(stack):
    body = json.dumps({"bucket": stack["bucket"], "object": "uploads/x/y", "size": 1}).encode()
    status, _, raw = http("POST", stack["fc"] + "/v1/oss-callback", body, {
        "Content-Type": "application/json", "Authorization": "AAAA",
        "x-oss-pub-key-url": "aHR0cHM6Ly9ldmlsLmV4YW1wbGUva2V5LnBlbQ=="})
    assert status == 403 and json.loads(raw)["error"]["code"] == "invalid_callback_signature"


def test_callback_failure_keeps_the_object_and_answers_203(tmp_path):
    with local_stack(tmp_path, CALLBACK_URL="http://127.0.0.1:9/unreachable") as info:
        token = login(info, "gina")["token"]
        ticket, status, answer = upload(info, token, b"kept")
        assert (status, oss_error_code(answer)) == (203, "CallbackFailed")
        status, link = download(info, token, ticket["key"])
        assert http("GET", link["url"])[::2] == (200, b"kept")
