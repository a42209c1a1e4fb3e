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


# --- the security review's findings, attacked over real HTTP (docs/threat-model.md) --------------------------

from urllib.parse import parse_qsl, urlencode, urlsplit  # noqa: E402
import base64  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (4).to_bytes(4, "big") + (2).to_bytes(4, "big") + b"\x00" * 40


def upload(stack, data, **request):
    status, ticket = post_json(stack["fc"] + "/v1/uploads", dict({"size": len(data)}, **request))
    assert status == 200, ticket
    body, content_type = encode_form(ticket["fields"], data)
    status, _, answer = http("POST", ticket["url"], body, {"Content-Type": content_type})
    return ticket, status, answer


@pytest.mark.parametrize("content_type", ["text/html", "image/svg+xml", "application/xhtml+xml", "text/javascript"])
def test_active_content_gets_no_ticket(stack, content_type):
    status, body = post_json(stack["fc"] + "/v1/uploads", {"size": 10, "contentType": content_type})
    assert (status, body["error"]["code"]) == (415, "unsupported_type") and content_type in body["error"]["message"]


def test_a_download_link_is_a_signed_attachment(stack):
    ticket, status, _ = upload(stack, PNG, contentType="image/png", filename="a.png")
    assert status == 200
    status, link = post_json(stack["fc"] + "/v1/downloads", {"key": ticket["key"], "filename": "holiday.png"})
    assert status == 200
    query = dict(parse_qsl(urlsplit(link["url"]).query))
    assert query["response-content-disposition"] == \
        "attachment; filename=\"holiday.png\"; filename*=UTF-8''holiday.png"
    status, headers, data = http("GET", link["url"])
    assert (status, data) == (200, PNG)
    assert headers["Content-Disposition"] == "attachment; filename=\"holiday.png\"; filename*=UTF-8''holiday.png"
    # the override is part of the signature: a holder of the link cannot turn it into inline
    query["response-content-disposition"] = "inline"
    tampered = link["url"].split("?")[0] + "?" + urlencode(query)
    status, _, answer = http("GET", tampered)
    assert (status, oss_error_code(answer)) == (403, "SignatureDoesNotMatch")


def test_the_seed_route_is_off_by_default(stack):
    status, _, raw = http("GET", stack["fc"] + "/generate_signature")
    assert status == 404 and json.loads(raw)["error"]["code"] == "not_found"


@pytest.fixture(scope="module")
def seed_stack(tmp_path_factory):
    with local_stack(tmp_path_factory.mktemp("e2e-seed"), AUTH_MODE="anonymous", SEED_ROUTE="on") as info:
        yield info


def seed_form(stack, key, **extra):
    status, _, raw = http("GET", stack["fc"] + "/generate_signature")
    assert status == 200
    seed = json.loads(raw)
    fields = [("key", seed["dir"] + key if key is not None else None), ("policy", seed["policy"]),
              ("x-oss-signature-version", seed["x_oss_signature_version"]),
              ("x-oss-credential", seed["x_oss_credential"]), ("x-oss-date", seed["x_oss_date"]),
              ("x-oss-signature", seed["signature"]), ("x-oss-security-token", seed["security_token"]),
              ("success_action_status", "200")]
    return seed, [(n, v) for n, v in fields if v is not None] + list(extra.items())


def test_the_seed_route_writes_only_in_its_own_directory(seed_stack):
    seed, fields = seed_form(seed_stack, "photo.png")
    assert seed["dir"] == "uploads/anonymous/_seed/"
    body, content_type = encode_form(fields, PNG)
    assert http("POST", seed["host"], body, {"Content-Type": content_type})[0] == 200
    # an object /v1/uploads issued is out of its reach
    ticket, status, _ = upload(seed_stack, PNG, contentType="image/png")
    assert status == 200
    _, fields = seed_form(seed_stack, None)
    body, content_type = encode_form([("key", ticket["key"])] + fields, b"swapped after moderation")
    status, _, answer = http("POST", seed["host"], body, {"Content-Type": content_type})
    assert (status, oss_error_code(answer)) == (403, "AccessDenied")


def test_a_seed_form_cannot_make_an_object_public(seed_stack):
    seed, fields = seed_form(seed_stack, "public.png", **{"x-oss-object-acl": "public-read"})
    body, content_type = encode_form(fields, PNG)
    status, _, answer = http("POST", seed["host"], body, {"Content-Type": content_type})
    assert (status, oss_error_code(answer)) == (403, "AccessDenied")


def test_a_callback_an_attacker_attaches_is_refused(seed_stack):
    """The review's finding 4: OSS signs every callback with one key, so a callback the uploader attached (the
    seed route pins none) reached the function signed, naming another user's key and a made-up size."""
    victim = "uploads/u" + "1" * 31 + "/default/2026/11/29/" + "a" * 32 + ".png"
    spec = {"callbackUrl": seed_stack["fc"] + "/v1/oss-callback", "callbackBodyType": "application/json",
            "callbackBody": '{"bucket":${bucket},"object":"%s","etag":${etag},"size":999999,"mimeType":"image/png",'
                            '"mac":"%s"}' % (victim, "0" * 64)}
    seed, fields = seed_form(seed_stack, "cb.png", callback=base64.b64encode(json.dumps(spec).encode()).decode())
    body, content_type = encode_form(fields, PNG)
    status, _, answer = http("POST", seed["host"], body, {"Content-Type": content_type})
    assert (status, oss_error_code(answer)) == (203, "CallbackFailed")  # the function answered 403


def test_the_stored_object_is_an_attachment_even_without_our_link(stack):
    """A link made some other way (a CDN, a public bucket by mistake) still serves the pinned disposition."""
    ticket, status, _ = upload(stack, PNG, contentType="image/png")
    assert status == 200
    stored = Store(stack["data"], stack["bucket"]).head(ticket["key"])
    name = ticket["key"].rsplit("/", 1)[1]
    assert stored["headers"]["Content-Disposition"] == 'attachment; filename="%s"; filename*=UTF-8\'\'%s' % (name, name)


@pytest.mark.parametrize("name, value", [
    ("x-oss-object-acl", "public-read"), ("x-oss-object-acl", "public-read-write"),
    ("x-oss-storage-class", "Archive"), ("x-oss-storage-class", "ColdArchive"),
    ("Content-Disposition", "inline"), ("Content-Type", "text/html"), ("x-oss-forbid-overwrite", "false"),
])
def test_a_ticket_holder_cannot_change_what_is_held(stack, name, value):
    status, ticket = post_json(stack["fc"] + "/v1/uploads", {"size": len(PNG), "contentType": "image/png"})
    fields = [(n, value if n == name else v) for n, v in ticket["fields"].items()]
    if name not in ticket["fields"]:
        fields.insert(1, (name, value))
    body, content_type = encode_form(fields, PNG)
    status, _, answer = http("POST", ticket["url"], body, {"Content-Type": content_type})
    assert (status, oss_error_code(answer)) == (403, "AccessDenied")
    assert not Store(stack["data"], stack["bucket"]).exists(ticket["key"])


def test_an_uploaded_object_is_never_public(stack):
    ticket, status, _ = upload(stack, PNG, contentType="image/png")
    assert status == 200
    status, _, answer = http("GET", ticket["url"] + "/" + ticket["key"])  # no signature: anyone on the internet
    assert (status, oss_error_code(answer)) == (403, "AccessDenied")


def test_what_a_ticket_holder_may_still_set_is_their_own_objects_metadata(stack):
    """Documented in docs/threat-model.md: Cache-Control, Expires, Content-Encoding and x-oss-meta-* are left to
    the uploader; they change only how their own object is described, never its type, name, ACL or place."""
    status, ticket = post_json(stack["fc"] + "/v1/uploads", {"size": len(PNG), "contentType": "image/png"})
    extra = [("Cache-Control", "max-age=60"), ("x-oss-meta-note", "mine")]
    body, content_type = encode_form(list(ticket["fields"].items()) + extra, PNG)
    assert http("POST", ticket["url"], body, {"Content-Type": content_type})[0] == 200
    stored = Store(stack["data"], stack["bucket"]).head(ticket["key"])
    assert stored["headers"]["Cache-Control"] == "max-age=60" and stored["userMeta"] == {"x-oss-meta-note": "mine"}
    assert stored["acl"] == "default" and stored["contentType"] == "image/png"
