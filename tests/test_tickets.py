import base64
import json
from datetime import timedelta

import pytest

from conftest import FIXED_NOW, make_config
from ossgate import keys, mediatypes, tickets
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
                                      "Content-Type", "x-oss-forbid-overwrite", "Content-Disposition"]
    conditions = decode_policy(ticket)["conditions"]
    assert {"bucket": "demo-bucket"} in conditions
    assert ["eq", "$key", key] in conditions
    assert ["content-length-range", 1, 500] in conditions
    assert ["eq", "$content-type", "image/jpeg"] in conditions
    assert ["eq", "$x-oss-forbid-overwrite", "true"] in conditions
    assert ["eq", "$success_action_status", "200"] in conditions
    assert ["eq", "$content-disposition", 'attachment; filename="%s.jpg"; filename*=UTF-8\'\'%s.jpg'
            % ("f" * 32, "f" * 32)] in conditions
    assert ["not-in", "$x-oss-object-acl", ["public-read", "public-read-write"]] in conditions
    assert ["not-in", "$x-oss-storage-class", ["IA", "Archive", "ColdArchive", "DeepColdArchive"]] in conditions
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
    assert answer["dir"] == "uploads/u123/_seed/"
    conditions = json.loads(base64.b64decode(answer["policy"]))["conditions"]
    assert ["starts-with", "$key", "uploads/u123/_seed/"] in conditions
    assert ["not-in", "$x-oss-object-acl", ["public-read", "public-read-write"]] in conditions
    assert ["content-length-range", 1, 1000] in conditions
    assert ["eq", "$success_action_status", "200"] in conditions
    assert answer["expire"] == int((FIXED_NOW + timedelta(seconds=600)).timestamp())
    assert set(answer) == {"policy", "x_oss_signature_version", "x_oss_credential", "x_oss_date", "signature",
                           "security_token", "host", "dir", "expire"}


# --- active content: no upload may be served as a page unless a profile lists that exact type ----------------

ACTIVE = ["text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
          "application/rss+xml", "application/atom+xml", "application/mathml+xml", "text/xsl", "application/xslt+xml",
          "text/javascript", "application/javascript", "application/x-javascript", "application/ecmascript",
          "text/ecmascript", "text/jscript", "application/x-shockwave-flash", "text/x-component",
          "multipart/x-mixed-replace", "application/xml-dtd"]
NOT_ACTIVE = ["image/png", "image/jpeg", "text/plain", "text/csv", "text/vtt", "application/pdf", "application/json",
              "video/mp4", "audio/mpeg", "application/zip", "font/woff2", "application/octet-stream"]
ACTIVE_PROFILES = json.dumps({"default": {"maxSize": 1000}, "images": {"maxSize": 1000, "contentTypes": ["image/*"]},
                              "texts": {"maxSize": 1000, "contentTypes": ["text/*", "application/*"]},
                              "svg": {"maxSize": 1000, "contentTypes": ["image/svg+xml", "image/png"]},
                              "photos": {"maxSize": 1000, "contentTypes": ["image/jpeg"], "disposition": "inline"}})


def issue_active(body, credentials):
    cfg = make_config(UPLOAD_PROFILES=ACTIVE_PROFILES)
    return tickets.upload_ticket(cfg, credentials, "u123", tickets.parse_ticket_request(body), FIXED_NOW, "f" * 32)


@pytest.mark.parametrize("content_type", ACTIVE)
@pytest.mark.parametrize("profile", ["default", "texts", "images"])
def test_active_types_are_refused_by_any_type_and_wildcard_profiles(content_type, profile, credentials):
    with pytest.raises(TicketError) as raised:
        issue_active({"size": 10, "contentType": content_type, "profile": profile}, credentials)
    assert (raised.value.status, raised.value.code) == (415, "unsupported_type")
    assert content_type in raised.value.message


@pytest.mark.parametrize("content_type", NOT_ACTIVE)
def test_safe_types_pass_the_any_type_profile(content_type, credentials):
    assert mediatypes.is_active(content_type) is False
    ticket = issue_active({"size": 10, "contentType": content_type}, credentials)
    assert ticket["fields"]["Content-Type"] == content_type


def test_a_profile_listing_an_active_type_exactly_accepts_it_as_an_attachment(credentials):
    ticket = issue_active({"size": 10, "contentType": "image/svg+xml", "profile": "svg"}, credentials)
    assert ticket["fields"]["Content-Type"] == "image/svg+xml"
    assert ticket["fields"]["Content-Disposition"].startswith("attachment; ")
    pinned = ["eq", "$content-disposition", ticket["fields"]["Content-Disposition"]]
    assert pinned in decode_policy(ticket)["conditions"]


def test_an_inline_profile_pins_inline(credentials):
    ticket = issue_active({"size": 10, "contentType": "image/jpeg", "profile": "photos"}, credentials)
    assert ticket["fields"]["Content-Disposition"] == "inline"
    assert ["eq", "$content-disposition", "inline"] in decode_policy(ticket)["conditions"]


@pytest.mark.parametrize("filename, expected", [
    # RFC 6266 section 5 / RFC 5987 section 3.2.2 style: UTF-8 percent-encoded, an ASCII fallback
    ("résumé 2026.pdf", "attachment; filename=\"r_sum_ 2026.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%202026.pdf"),
    ("a\";b\r\n%.txt", "attachment; filename=\"a_;b___.txt\"; filename*=UTF-8''a%22%3Bb%0D%0A%25.txt"),
    ("€ rates.txt", "attachment; filename=\"_ rates.txt\"; filename*=UTF-8''%E2%82%AC%20rates.txt"),
    ("plain-name_1.jpg", "attachment; filename=\"plain-name_1.jpg\"; filename*=UTF-8''plain-name_1.jpg"),
])
def test_content_disposition_known_answers(filename, expected):
    assert mediatypes.content_disposition(filename) == expected
    assert mediatypes.content_disposition(filename, inline=True) == "inline"


# --- fields a ticket holder may add: checked by the local OSS's own policy checker ---------------------------

from local.oss import postobject as local_oss  # noqa: E402


def form_of(ticket, **extra):
    fields = {name.lower(): value for name, value in ticket["fields"].items()}
    fields.update({name.lower().replace("_", "-"): value for name, value in extra.items()})
    return fields


def policy_verdict(ticket, fields, size=10):
    document = decode_policy(ticket)
    try:
        for condition in document["conditions"]:
            local_oss.check_condition(condition, fields, "demo-bucket", size)
    except local_oss.OssError as exc:
        return exc.code
    return "ok"


@pytest.mark.parametrize("name, value, verdict", [
    ("x-oss-object-acl", "public-read", "AccessDenied"),
    ("x-oss-object-acl", "public-read-write", "AccessDenied"),
    ("x-oss-object-acl", "private", "ok"),
    ("x-oss-storage-class", "Archive", "AccessDenied"),
    ("x-oss-storage-class", "DeepColdArchive", "AccessDenied"),
    ("x-oss-storage-class", "Standard", "ok"),
    ("content-disposition", "inline", "AccessDenied"),
    ("content-type", "text/html", "AccessDenied"),
    ("x-oss-forbid-overwrite", "false", "AccessDenied"),
    ("success_action_status", "201", "AccessDenied"),
    ("cache-control", "public, max-age=31536000", "ok"),      # documented: the uploader's own object
    ("x-oss-meta-note", "anything", "ok"),                      # documented
])
def test_fields_a_ticket_holder_adds(name, value, verdict, credentials):
    ticket = issue({"size": 10, "contentType": "image/png", "profile": "avatar"}, credentials)
    fields = form_of(ticket)
    assert policy_verdict(ticket, fields) == "ok"
    fields[name] = value
    assert policy_verdict(ticket, fields) == verdict


@pytest.mark.parametrize("name", ["content-disposition", "content-type", "x-oss-forbid-overwrite"])
def test_pinned_fields_cannot_be_left_out(name, credentials):
    ticket = issue({"size": 10, "contentType": "image/png", "profile": "avatar"}, credentials)
    fields = form_of(ticket)
    del fields[name]
    assert policy_verdict(ticket, fields) == "AccessDenied"


def test_the_seed_directory_is_no_profiles():
    """No profile may be named like the seed segment, so no other route writes under the seed directory."""
    from ossgate.errors import ConfigError
    with pytest.raises(ConfigError):
        make_config(UPLOAD_PROFILES=json.dumps({"default": {}, keys.SEED_SEGMENT: {}}))
    assert keys.seed_prefix("uploads/", "u1") == "uploads/u1/_seed/"
    assert not keys.object_key("uploads/", "u1", "default", FIXED_NOW, "f" * 32, "").startswith("uploads/u1/_seed/")
