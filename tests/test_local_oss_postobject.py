"""PostObject on the local OSS applies the form fields real OSS applies (whether or not the policy pins them)
and GET/HEAD serve them back; oss2 reads the results."""

import hashlib
import os
import tracemalloc
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import oss2
import pytest
import requests

from formpost import encode_form, oss_error_code, post_form
from localoss import AK, BUCKET, REGION, SK, TOKEN, bucket, sdk_crc64
from localoss import server  # noqa: F401 - fixtures
from ossgate import policy
from ossgate.credentials import Credentials


def form(key, **extra):
    moment = datetime.now(timezone.utc)
    fields = {"key": key}
    fields.update(policy.signed_form_fields(Credentials(AK, SK, TOKEN), REGION, moment,
                                            moment + timedelta(minutes=10), [{"bucket": BUCKET}]))
    fields.update(extra)
    return fields


def post(server, fields, data=b"posted", **kwargs):
    return post_form(server["endpoint"] + "/" + BUCKET, fields, data, **kwargs)


def test_unpinned_fields_take_effect(server):
    status, headers, _ = post(server, form(
        "post/a.txt", **{"Content-Type": "text/plain", "Content-Disposition": "attachment; filename=a.txt",
                         "Cache-Control": "max-age=60", "Content-Encoding": "identity",
                         "Expires": "Wed, 21 Oct 2026 07:28:00 GMT", "x-oss-meta-origin": "form",
                         "x-oss-storage-class": "IA", "x-oss-tagging": "k=v", "success_action_status": "200"}))
    assert status == 200 and headers["x-oss-hash-crc64ecma"]
    head = bucket(server["endpoint"]).head_object("post/a.txt")
    assert head.content_type == "text/plain"
    assert head.headers["Content-Disposition"] == "attachment; filename=a.txt"
    assert head.headers["Cache-Control"] == "max-age=60" and head.headers["Content-Encoding"] == "identity"
    assert head.headers["Expires"] == "Wed, 21 Oct 2026 07:28:00 GMT"
    assert head.headers["x-oss-meta-origin"] == "form" and head.headers["x-oss-storage-class"] == "IA"
    assert bucket(server["endpoint"]).get_object_tagging("post/a.txt").tag_set.tagging_rule == {"k": "v"}


def test_public_read_object_acl_allows_anonymous_get(server):
    assert post(server, form("post/public.txt", **{"x-oss-object-acl": "public-read"}))[0] == 204
    anonymous = oss2.Bucket(oss2.AnonymousAuth(), server["endpoint"], BUCKET, region=REGION)
    assert anonymous.get_object("post/public.txt").read() == b"posted"
    assert post(server, form("post/private.txt"))[0] == 204
    with pytest.raises(oss2.exceptions.AccessDenied):
        anonymous.get_object("post/private.txt")


@pytest.mark.parametrize("extra", [
    {"x-oss-object-acl": "world-writable"},
    {"x-oss-storage-class": "Glacier"},
    {"x-oss-meta-big": "v" * 8200},
    {"x-oss-meta-bad_name": "v"},
])
def test_invalid_fields_are_refused_and_nothing_is_written(server, extra):
    status, headers, body = post(server, form("post/refused.txt", **extra))
    assert (status, oss_error_code(body)) == (400, "InvalidArgument") and headers["x-oss-ec"]
    assert not bucket(server["endpoint"]).object_exists("post/refused.txt")


def test_success_action_redirect(server):
    body, content_type = encode_form(form("post/redirected.txt",
                                          success_action_redirect="https://app.example.com/done?from=form"), b"x")
    answer = requests.post(server["endpoint"] + "/" + BUCKET, data=body, headers={"Content-Type": content_type},
                           allow_redirects=False)
    assert answer.status_code == 303
    location = urlsplit(answer.headers["Location"])
    query = parse_qs(location.query)
    assert location.netloc == "app.example.com" and query["from"] == ["form"]
    assert query["bucket"] == [BUCKET] and query["key"] == ["post/redirected.txt"]
    assert query["etag"] == ['"%s"' % bucket(server["endpoint"]).head_object("post/redirected.txt").etag]


def test_post_object_ignores_an_authorization_header(server):
    body, content_type = encode_form(form("post/with-header.txt"), b"x")
    answer = requests.post(server["endpoint"] + "/" + BUCKET, data=body, headers={
        "Content-Type": content_type, "Authorization": "OSS4-HMAC-SHA256 Credential=garbage,Signature=00"})
    assert answer.status_code == 204
    assert bucket(server["endpoint"]).object_exists("post/with-header.txt")


def test_large_forms_are_streamed_through_disk(server):
    data = os.urandom(1024 * 1024) * 40
    body, content_type = encode_form(form("post/large.bin"), data)
    tracemalloc.start()
    try:
        answer = requests.post(server["endpoint"] + "/" + BUCKET, data=body, headers={"Content-Type": content_type})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.status_code == 204
    assert peak < 12 * 1024 * 1024, "a 40 MB form was held in memory (peak %d bytes)" % peak
    head = bucket(server["endpoint"]).head_object("post/large.bin")
    assert head.content_length == len(data) and head.etag == hashlib.md5(data).hexdigest().upper()
    assert head.headers["x-oss-hash-crc64ecma"] == str(sdk_crc64(data))


def test_oversized_form_fields_are_refused(server):
    status, _, body = post(server, form("post/fields.txt", **{"x:big": "v" * (2 * 1024 * 1024 + 1)}))
    assert (status, oss_error_code(body)) == (400, "InvalidArgument")


def test_a_form_is_refused_more_than_15_minutes_after_signing(server):
    signed = datetime.now(timezone.utc) - timedelta(minutes=16)
    fields = {"key": "post/stale.txt"}
    fields.update(policy.signed_form_fields(Credentials(AK, SK, TOKEN), REGION, signed,
                                            signed + timedelta(hours=1), [{"bucket": BUCKET}]))
    status, _, body = post(server, fields)
    assert (status, oss_error_code(body)) == (403, "RequestTimeTooSkewed")  # although the policy still runs
    fresh = datetime.now(timezone.utc) - timedelta(minutes=14)
    fields.update(policy.signed_form_fields(Credentials(AK, SK, TOKEN), REGION, fresh,
                                            fresh + timedelta(hours=1), [{"bucket": BUCKET}]))
    assert post(server, fields)[0] == 204
