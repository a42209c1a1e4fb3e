import base64
import json
from datetime import timedelta

import pytest

from conftest import FIXED_NOW, make_config
from ossgate import keys, tickets
from ossgate.credentials import Credentials
from ossgate.errors import CredentialsError, RequestError, TicketError

PROFILES = json.dumps({"default": {"maxSize": 1000},
                       "avatar": {"maxSize": 500, "contentTypes": ["image/jpeg", "image/png"], "ttl": 120},
                       "media": {"maxSize": 5000, "contentTypes": ["video/*"]}})


def decode_policy(ticket):
    return json.loads(base64.b64decode(ticket["fields"]["policy"]))


def issue(body, credentials, **config_overrides):
    cfg = make_config(UPLOAD_PROFILES=PROFILES, **config_overrides)
    request = tickets.parse_ticket_request(body)
    return tickets.upload_ticket(cfg, credentials, "u123", request, FIXED_NOW, "f" * 32)


def test_ticket_pins_everything_the_contract_lists(credentials):
    ticket = issue({"size": 10, "contentType": "image/JPEG", "filename": "Me.JPG", "profile": "avatar"}, credentials)
    key = "uploads/u123/avatar/2026/11/29/" + "f" * 32 + ".jpg"
    assert ticket["key"] == key and ticket["fields"]["key"] == key
    assert list(ticket["fields"]) == ["key", "policy", "x-oss-signature-version", "x-oss-credential", "x-oss-date",
                                      "x-oss-signature", "x-oss-security-token", "success_action_status",
                                      "Content-Type", "x-oss-forbid-overwrite"]
    conditions = decode_policy(ticket)["conditions"]
    assert {"bucket": "demo-bucket"} in conditions
    assert ["eq", "$key", key] in conditions
    assert ["content-length-range", 1, 500] in conditions
    assert ["eq", "$content-type", "image/jpeg"] in conditions
    assert ["eq", "$x-oss-forbid-overwrite", "true"] in conditions
    assert ["eq", "$success_action_status", "200"] in conditions
    assert {"x-oss-security-token": credentials.security_token} in conditions
    assert {"x-oss-date": "20261129T231000Z"} in conditions
    assert ticket["fields"]["x-oss-credential"] == credentials.access_key_id + "/20261129/cn-hangzhou/oss/aliyun_v4_request"
    assert ticket["maxSize"] == 500


def test_profile_ttl_and_ticket_ttl(credentials):
    assert issue({"size": 1, "contentType": "image/png", "profile": "avatar"}, credentials)["expiresAt"] \
        == "2026-11-29T23:12:00Z"
    assert issue({"size": 1}, credentials, TICKET_TTL_SECONDS="300")["expiresAt"] == "2026-11-29T23:15:00Z"
    assert decode_policy(issue({"size": 1}, credentials))["expiration"] == "2026-11-29T23:20:00.000Z"


def test_expiration_never_outlives_the_credentials():
    expiring = Credentials("AK", "SK", "TOKEN", expiration=FIXED_NOW + timedelta(minutes=5))
    ticket = issue({"size": 1}, expiring)
    assert ticket["expiresAt"] == "2026-11-29T23:14:00Z"  # 5 min less the 60 s margin, under the 10 min ttl
    nearly_dead = Credentials("AK", "SK", "TOKEN", expiration=FIXED_NOW + timedelta(seconds=90))
    with pytest.raises(CredentialsError):
        issue({"size": 1}, nearly_dead)


def test_untyped_request_pins_octet_stream(credentials):
    ticket = issue({"size": 1, "filename": "page.html"}, credentials)
    assert ticket["fields"]["Content-Type"] == "application/octet-stream"
    assert ticket["key"].endswith("/" + "f" * 32 + ".html")
    assert ["eq", "$content-type", "application/octet-stream"] in decode_policy(ticket)["conditions"]


@pytest.mark.parametrize("body, code", [
    ({"size": 1001}, "file_too_large"),
    ({"size": 10, "profile": "nope"}, "unknown_profile"),
    ({"size": 10, "profile": "avatar"}, "unsupported_type"),
    ({"size": 10, "profile": "avatar", "contentType": "image/gif"}, "unsupported_type"),
    ({"size": 10, "profile": "media", "contentType": "audio/mpeg"}, "unsupported_type"),
])
def test_refusals(body, code, credentials):
    with pytest.raises(TicketError) as raised:
        issue(body, credentials)
    assert raised.value.code == code


def test_wildcard_type_is_allowed(credentials):
    assert issue({"size": 10, "profile": "media", "contentType": "video/mp4"}, credentials)["key"].endswith(".mp4")


@pytest.mark.parametrize("body", [
    [], {}, {"size": "10"}, {"size": 1.5}, {"size": True}, {"size": 0}, {"size": -1},
    {"size": 1, "contentType": "jpeg"}, {"size": 1, "contentType": "image/jpeg; x=1"}, {"size": 1, "contentType": 5},
    {"size": 1, "profile": ""}, {"size": 1, "profile": 3}, {"size": 1, "filename": ["a"]}, {"size": 1, "key": "x"},
])
def test_bad_requests(body):
    with pytest.raises(RequestError) as raised:
        tickets.parse_ticket_request(body)
    assert raised.value.code == "bad_request"


@pytest.mark.parametrize("filename, content_type, ext", [
    ("photo.JPG", None, "jpg"), ("../../etc/passwd", None, ""), ("a.tar.gz", None, "gz"), ("x.", None, ""),
    (".bashrc", None, ""), ("evil.php%00.jpg", None, "jpg"), ("a.<script>", "image/png", "png"),
    ("C:\\dir\\file.PnG", None, "png"), ("a.verylongextension", None, ""), (None, "image/webp", "webp"),
    ("noext", "application/x-unknown", ""),
])
def test_extension_is_sanitised(filename, content_type, ext):
    assert keys.extension(filename, content_type) == ext


def test_seed_route_pins_the_users_prefix(credentials):
    cfg = make_config(UPLOAD_PROFILES=PROFILES)
    answer = tickets.seed_signature(cfg, credentials, "u123", FIXED_NOW)
    assert answer["dir"] == "uploads/u123/"
    conditions = json.loads(base64.b64decode(answer["policy"]))["conditions"]
    assert ["starts-with", "$key", "uploads/u123/"] in conditions
    assert ["content-length-range", 1, 1000] in conditions
    assert ["eq", "$success_action_status", "200"] in conditions
    assert answer["expire"] == int((FIXED_NOW + timedelta(seconds=600)).timestamp())
    assert set(answer) == {"policy", "x_oss_signature_version", "x_oss_credential", "x_oss_date", "signature",
                           "security_token", "host", "dir", "expire"}
