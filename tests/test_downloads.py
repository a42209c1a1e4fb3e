from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import make_config
from ossgate import downloads
from ossgate.credentials import Credentials
from ossgate.errors import OssgateError

OWN = "uploads/u1/default/2026/11/29/abc.jpg"


@pytest.mark.parametrize("key", [OWN, "uploads/u1/x", "uploads/u1/a/b/c.d"])
def test_own_keys_are_allowed(key):
    assert downloads.owned_key({"key": key}, make_config(), "u1") == key


@pytest.mark.parametrize("key, status", [
    ("uploads/u2/default/a.jpg", 403), ("uploads/u10/a.jpg", 403), ("uploads/u1", 403), ("uploads/u1/", 403),
    ("uploads/u1/../u2/a.jpg", 403), ("uploads/u1/./a", 403), ("uploads/u1//a", 403), ("other/u1/a", 403),
    ("/uploads/u1/a", 403), ("uploads/u1/a\n", 400), ("uploads/u1/a\\b", 400), ("", 400), (None, 400),
    (5, 400), ("uploads/u1/" + "a" * 1100, 400),
])
def test_other_keys_are_refused(key, status):
    with pytest.raises(OssgateError) as raised:
        downloads.owned_key({"key": key}, make_config(), "u1")
    assert raised.value.status == status


@pytest.mark.parametrize("host, expected", [
    ("https://demo-bucket.oss-cn-hangzhou.aliyuncs.com", "https://demo-bucket.oss-cn-hangzhou.aliyuncs.com/"),
    ("https://files.example.com", "https://files.example.com/"),
    ("http://127.0.0.1:9100/demo-bucket", "http://127.0.0.1:9100/demo-bucket/"),
])
def test_presigned_url_uses_the_upload_host(host, expected):
    now = datetime.now(timezone.utc)
    creds = Credentials("AKID", "SECRET", "TOKEN")
    answer = downloads.presigned_get(make_config(OSS_UPLOAD_HOST=host, DOWNLOAD_TTL_SECONDS="120"), creds, OWN, now)
    assert answer["url"].startswith(expected + OWN + "?")
    query = parse_qs(urlsplit(answer["url"]).query)
    assert query["x-oss-signature-version"] == ["OSS4-HMAC-SHA256"]
    assert query["x-oss-security-token"] == ["TOKEN"] and query["x-oss-expires"] == ["120"]
    assert "SECRET" not in answer["url"]


def test_lifetime_is_capped_by_the_credentials():
    now = datetime.now(timezone.utc)
    creds = Credentials("AKID", "SECRET", None, expiration=now + timedelta(seconds=200))
    answer = downloads.presigned_get(make_config(DOWNLOAD_TTL_SECONDS="3600"), creds, OWN, now)
    assert int(parse_qs(urlsplit(answer["url"]).query)["x-oss-expires"][0]) <= 140


# --- every download is an attachment unless its profile says inline ------------------------------------------

PROFILES = '{"default": {}, "photos": {"contentTypes": ["image/jpeg"], "disposition": "inline"}}'


def signed_disposition(body):
    key = body["key"]
    cfg = make_config(UPLOAD_PROFILES=PROFILES)
    value = downloads.disposition(body, cfg, "u1", key)
    now = datetime.now(timezone.utc)
    answer = downloads.presigned_get(cfg, Credentials("AKID", "SECRET", "TOKEN"), key, now, value)
    query = parse_qs(urlsplit(answer["url"]).query)
    assert query.get("response-content-disposition") == [value]
    return value


def test_a_download_is_an_attachment_named_after_the_key():
    assert signed_disposition({"key": OWN}) == "attachment; filename=\"abc.jpg\"; filename*=UTF-8''abc.jpg"


def test_the_caller_may_name_the_downloaded_file():
    assert signed_disposition({"key": OWN, "filename": "假期 1.jpg"}) == \
        "attachment; filename=\"__ 1.jpg\"; filename*=UTF-8''%E5%81%87%E6%9C%9F%201.jpg"


def test_an_inline_profile_is_served_inline():
    assert signed_disposition({"key": "uploads/u1/photos/2026/11/29/abc.jpg"}) == "inline"


@pytest.mark.parametrize("filename", ["", "a/b.txt", "..\\x.txt", "a\r\nSet-Cookie: x", "x" * 256, 5, ["a"], "\ud800"])
def test_bad_filenames_are_refused(filename):
    with pytest.raises(OssgateError) as raised:
        downloads.disposition({"key": OWN, "filename": filename}, make_config(), "u1", OWN)
    assert (raised.value.status, raised.value.code) == (400, "bad_request")
