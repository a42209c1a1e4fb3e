"""The local OSS speaks the object API as the official Python SDK (oss2, V4 signing) uses it, and refuses what
OSS refuses with OSS's codes. Proven by oss2's own requests, parsers and CRC-64, not by our own signer."""

import base64
import hashlib
import http.client
import os
import threading
from datetime import timedelta

import oss2
import pytest
import requests

from localoss import AK, BUCKET, REGION, SK, TOKEN, auth, bucket, running_oss, sdk_crc64
from localoss import bkt, server  # noqa: F401 - fixtures


def raises_oss(call, klass, status, code):
    """The SDK raises `klass` carrying OSS's status, code, an EC and the answer's request id."""
    with pytest.raises(klass) as caught:
        call()
    error = caught.value
    assert (error.status, error.code) == (status, code), error
    assert len(error.request_id) == 24 and error.request_id == error.headers.get("x-oss-request-id")
    assert error.ec and error.ec == error.headers.get("x-oss-ec")
    return error


class TamperedAuth(oss2.ProviderAuthV4):
    """Signs as oss2 does, then changes the request (a test of what the server checks)."""

    def __init__(self, change):
        super().__init__(oss2.credentials.StaticCredentialsProvider(AK, SK, TOKEN))
        self.change = change

    def _sign_request(self, req, bucket_name, key, in_additional_headers=None):
        super()._sign_request(req, bucket_name, key, in_additional_headers)
        self.change(req)


def flip_last(text):
    return text[:-1] + ("0" if text[-1] != "0" else "1")


# --- PutObject / GetObject / HeadObject / DeleteObject -------------------------------------------------

def test_put_get_head_delete_with_crc64(bkt):
    data = os.urandom(70_000)
    put = bkt.put_object("api/a.bin", data, headers={"Content-Type": "application/x-test"})
    assert put.status == 200 and put.etag == hashlib.md5(data).hexdigest().upper()
    assert put.crc == sdk_crc64(data)  # oss2 also compared it to its own CRC while sending
    got = bkt.get_object("api/a.bin")
    assert got.read() == data and got.server_crc == sdk_crc64(data)
    assert got.content_type == "application/x-test" and got.headers["Accept-Ranges"] == "bytes"
    assert got.headers["Last-Modified"].endswith(" GMT")
    head = bkt.head_object("api/a.bin")
    assert (head.content_length, head.etag, head.object_type) == (len(data), put.etag, "Normal")
    assert bkt.delete_object("api/a.bin").status == 204
    assert bkt.delete_object("api/a.bin").status == 204  # deleting a missing key is not an error
    raises_oss(lambda: bkt.get_object("api/a.bin"), oss2.exceptions.NoSuchKey, 404, "NoSuchKey")


def test_chunked_put_streams_to_disk(bkt):
    data = os.urandom(3 * 1024 * 1024 + 7)
    chunks = (data[i:i + 65536] for i in range(0, len(data), 65536))
    put = bkt.put_object("api/chunked.bin", chunks)
    assert put.crc == sdk_crc64(data)
    assert bkt.get_object("api/chunked.bin").read() == data


def test_head_error_carries_the_xml_in_x_oss_err(bkt):
    error = raises_oss(lambda: bkt.head_object("api/missing"), oss2.exceptions.NotFound, 404, "NoSuchKey")
    xml = base64.b64decode(error.headers["x-oss-err"])
    assert b"<Code>NoSuchKey</Code>" in xml and error.request_id.encode() in xml


def test_range_and_conditional_gets(bkt):
    data = bytes(range(256)) * 4
    put = bkt.put_object("api/range.bin", data)
    part = bkt.get_object("api/range.bin", byte_range=(10, 19))
    assert (part.status, part.read()) == (206, data[10:20])
    assert part.headers["Content-Range"] == "bytes 10-19/1024"
    assert "x-oss-hash-crc64ecma" not in part.headers  # the CRC is the whole object's only
    tail = bkt.get_object("api/range.bin", byte_range=(None, 4))
    assert tail.read() == data[-4:]
    for outside in ((2000, 2001), (1000, 1100), (None, 2000)):  # by default, a range outside the object is ignored
        whole = bkt.get_object("api/range.bin", byte_range=outside)
        assert (whole.status, whole.read()) == (200, data) and whole.server_crc == sdk_crc64(data)
    standard = {"x-oss-range-behavior": "standard"}
    cut = bkt.get_object("api/range.bin", byte_range=(1000, 1100), headers=standard)
    assert (cut.status, cut.read(), cut.headers["Content-Range"]) == (206, data[1000:], "bytes 1000-1023/1024")
    raises_oss(lambda: bkt.get_object("api/range.bin", byte_range=(2000, 2001), headers=standard),
               oss2.exceptions.ServerError, 416, "InvalidRange")
    first_only = bkt.get_object("api/range.bin", headers={"Range": "bytes=0-1,5-6"})
    assert (first_only.status, first_only.read()) == (206, data[:2])
    with pytest.raises(oss2.exceptions.NotModified) as caught:
        bkt.get_object("api/range.bin", headers={"If-None-Match": '"%s"' % put.etag})
    assert caught.value.status == 304
    last_modified = bkt.head_object("api/range.bin").headers["Last-Modified"]
    with pytest.raises(oss2.exceptions.NotModified):
        bkt.get_object("api/range.bin", headers={"If-Modified-Since": last_modified})
    raises_oss(lambda: bkt.get_object("api/range.bin", headers={"If-Match": '"00"'}),
               oss2.exceptions.PreconditionFailed, 412, "PreconditionFailed")
    assert bkt.get_object("api/range.bin", headers={"If-None-Match": '"other"'}).read() == data


def test_response_overrides_are_honoured(bkt):
    bkt.put_object("api/doc.txt", b"text", headers={"Content-Type": "text/plain"})
    got = bkt.get_object("api/doc.txt", params={"response-content-type": "application/pdf",
                                                "response-content-disposition": "attachment; filename=d.pdf"})
    assert got.content_type == "application/pdf"
    assert got.headers["Content-Disposition"] == "attachment; filename=d.pdf"


def test_forbid_overwrite_and_content_md5(bkt):
    bkt.put_object("api/once.txt", b"first")
    raises_oss(lambda: bkt.put_object("api/once.txt", b"again", headers={"x-oss-forbid-overwrite": "true"}),
               oss2.exceptions.ServerError, 409, "FileAlreadyExists")
    assert bkt.get_object("api/once.txt").read() == b"first"
    good = base64.b64encode(hashlib.md5(b"body").digest()).decode()
    assert bkt.put_object("api/md5.txt", b"body", headers={"Content-MD5": good}).status == 200
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    error = raises_oss(lambda: bkt.put_object("api/md5b.txt", b"body", headers={"Content-MD5": wrong}),
                       oss2.exceptions.InvalidDigest, 400, "InvalidDigest")
    assert error.ec == "0017-00000503"  # OSS's documented EC for a Content-MD5 that does not match
    raises_oss(lambda: bkt.put_object("api/md5b.txt", b"body", headers={"Content-MD5": "not-md5"}),
               oss2.exceptions.InvalidDigest, 400, "InvalidDigest")
    assert not bkt.object_exists("api/md5b.txt")


def test_object_settings_are_stored_and_served(bkt):
    bkt.put_object("api/meta.txt", b"x", headers={
        "Content-Disposition": "attachment", "Cache-Control": "no-cache", "Content-Encoding": "identity",
        "Expires": "Wed, 21 Oct 2026 07:28:00 GMT", "x-oss-meta-owner": "tests", "x-oss-storage-class": "IA",
        "x-oss-tagging": "a=1&b=2"})
    head = bkt.head_object("api/meta.txt")
    assert head.headers["Content-Disposition"] == "attachment" and head.headers["Cache-Control"] == "no-cache"
    assert head.headers["Content-Encoding"] == "identity" and head.headers["Expires"].startswith("Wed, 21 Oct")
    assert head.headers["x-oss-meta-owner"] == "tests" and head.headers["x-oss-storage-class"] == "IA"
    assert head.headers["x-oss-tagging-count"] == "2"
    raises_oss(lambda: bkt.put_object("api/bad.txt", b"x", headers={"x-oss-object-acl": "everyone"}),
               oss2.exceptions.InvalidArgument, 400, "InvalidArgument")
    raises_oss(lambda: bkt.put_object("api/bad.txt", b"x", headers={"x-oss-meta-big": "v" * 9000}),
               oss2.exceptions.InvalidArgument, 400, "InvalidArgument")


def test_archive_objects_need_a_restore(bkt):
    bkt.put_object("api/cold.txt", b"x", headers={"x-oss-storage-class": "Archive"})
    assert bkt.head_object("api/cold.txt").headers["x-oss-storage-class"] == "Archive"
    raises_oss(lambda: bkt.get_object("api/cold.txt"), oss2.exceptions.ServerError, 403, "InvalidObjectState")


# --- refusals ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, klass, status, code", [
    (lambda ep: oss2.Bucket(TamperedAuth(lambda r: r.headers.__setitem__(
        "authorization", flip_last(r.headers["authorization"]))), ep, BUCKET, region=REGION),
     oss2.exceptions.SignatureDoesNotMatch, 403, "SignatureDoesNotMatch"),
    (lambda ep: bucket(ep, secret="wrong-secret"), oss2.exceptions.SignatureDoesNotMatch, 403,
     "SignatureDoesNotMatch"),
    (lambda ep: bucket(ep, token="forged-token"), oss2.exceptions.ServerError, 403, "InvalidSecurityToken"),
    (lambda ep: bucket(ep, token=None), oss2.exceptions.ServerError, 403, "InvalidSecurityToken"),
    (lambda ep: bucket(ep, key_id="LTAIother"), oss2.exceptions.ServerError, 403, "InvalidAccessKeyId"),
    (lambda ep: bucket(ep, region="cn-shanghai"), oss2.exceptions.InvalidArgument, 400, "InvalidArgument"),
    (lambda ep: oss2.Bucket(TamperedAuth(lambda r: r.headers.__setitem__("Content-Type", "text/html")), ep,
                            BUCKET, region=REGION), oss2.exceptions.SignatureDoesNotMatch, 403,
     "SignatureDoesNotMatch"),
    (lambda ep: oss2.Bucket(oss2.AnonymousAuth(), ep, BUCKET, region=REGION), oss2.exceptions.AccessDenied,
     403, "AccessDenied"),
], ids=["one-byte-of-signature", "wrong-secret", "wrong-token", "no-token", "unknown-key", "wrong-region",
        "unsigned-content-type", "anonymous"])
def test_refused_puts_and_gets(server, make, klass, status, code):
    client = make(server["endpoint"])
    raises_oss(lambda: client.put_object("api/refused.txt", b"x", headers={"Content-Type": "text/plain"}),
               klass, status, code)
    bucket(server["endpoint"]).put_object("api/readable.txt", b"x")
    raises_oss(lambda: client.get_object("api/readable.txt"), klass, status, code)
    assert not bucket(server["endpoint"]).object_exists("api/refused.txt")


def test_signature_mismatch_shows_what_the_server_signed(server):
    client = bucket(server["endpoint"], secret="wrong-secret")
    error = raises_oss(lambda: client.put_object("api/mismatch.txt", b"x", headers={"Content-Type": "text/plain"}),
                       oss2.exceptions.SignatureDoesNotMatch, 403, "SignatureDoesNotMatch")
    canonical = error.details["CanonicalRequest"]
    assert canonical.startswith("PUT\n/%s/api/mismatch.txt\n" % BUCKET) and "content-type:text/plain" in canonical
    assert error.details["StringToSign"].startswith("OSS4-HMAC-SHA256\n")
    assert error.details["OSSAccessKeyId"] == AK and SK not in error.body.decode()


def test_forbid_overwrite_takes_only_true_or_false(bkt):
    raises_oss(lambda: bkt.put_object("api/flag.txt", b"x", headers={"x-oss-forbid-overwrite": "yes"}),
               oss2.exceptions.InvalidArgument, 400, "InvalidArgument")
    assert not bkt.object_exists("api/flag.txt")
    assert bkt.put_object("api/flag.txt", b"x", headers={"x-oss-forbid-overwrite": "false"}).status == 200


def test_both_authorization_spellings(bkt, server):
    def without_spaces(req):
        req.headers["authorization"] = req.headers["authorization"].replace(", ", ",")
    client = oss2.Bucket(TamperedAuth(without_spaces), server["endpoint"], BUCKET, region=REGION)
    assert client.put_object("api/nospace.txt", b"x").status == 200
    assert client.get_object("api/nospace.txt").read() == b"x"


def test_additional_signed_headers(server):
    client = oss2.Bucket(auth(), server["endpoint"], BUCKET, region=REGION)
    url = client.sign_url("PUT", "api/additional.txt", 60, headers={"Content-Type": "text/plain", "x-extra": "1"},
                          additional_headers=["x-extra"])
    assert "x-oss-additional-headers=x-extra" in url
    assert requests.put(url, data=b"x", headers={"Content-Type": "text/plain", "x-extra": "1"}).status_code == 200
    answer = requests.put(url, data=b"x", headers={"Content-Type": "text/plain", "x-extra": "2"})
    assert answer.status_code == 403 and b"SignatureDoesNotMatch" in answer.content


def test_clock_skew_and_expired_urls(bkt, server):
    server["clock"].offset = timedelta(minutes=16)
    raises_oss(lambda: bkt.put_object("api/skew.txt", b"x"), oss2.exceptions.ServerError, 403,
               "RequestTimeTooSkewed")
    server["clock"].offset = timedelta(minutes=-16)
    raises_oss(lambda: bkt.get_object("api/skew.txt"), oss2.exceptions.ServerError, 403, "RequestTimeTooSkewed")
    server["clock"].offset = timedelta(minutes=14)
    assert bkt.put_object("api/skew.txt", b"x").status == 200
    server["clock"].offset = timedelta()
    url = bkt.sign_url("GET", "api/skew.txt", 60)
    assert requests.get(url).content == b"x"
    server["clock"].offset = timedelta(seconds=61)
    answer = requests.get(url)
    assert answer.status_code == 403 and b"<Code>AccessDenied</Code>" in answer.content
    assert b"expired" in answer.content


def test_presigned_put_needs_the_signed_content_type(bkt):
    url = bkt.sign_url("PUT", "api/presigned.txt", 60, headers={"Content-Type": "text/plain"})
    answer = requests.put(url, data=b"hello", headers={"Content-Type": "application/json"})
    assert answer.status_code == 403 and b"SignatureDoesNotMatch" in answer.content
    assert answer.headers["x-oss-request-id"] and answer.headers["x-oss-ec"]
    answer = requests.put(url, data=b"hello", headers={"Content-Type": "text/plain"})
    assert answer.status_code == 200 and int(answer.headers["x-oss-hash-crc64ecma"]) == sdk_crc64(b"hello")
    assert bkt.get_object("api/presigned.txt").content_type == "text/plain"


def test_public_read_object_is_readable_anonymously(bkt, server):
    bkt.put_object("api/public.txt", b"open", headers={"x-oss-object-acl": "public-read"})
    anonymous = oss2.Bucket(oss2.AnonymousAuth(), server["endpoint"], BUCKET, region=REGION)
    assert anonymous.get_object("api/public.txt").read() == b"open"
    assert bkt.get_object_acl("api/public.txt").acl == "public-read"
    raises_oss(lambda: anonymous.delete_object("api/public.txt"), oss2.exceptions.AccessDenied, 403,
               "AccessDenied")
    raises_oss(lambda: anonymous.get_object("api/public.txt", params={"response-content-type": "text/html"}),
               oss2.exceptions.InvalidRequest, 400, "InvalidRequest")  # only signed requests may override
    bkt.put_object_acl("api/public.txt", "private")
    raises_oss(lambda: anonymous.get_object("api/public.txt"), oss2.exceptions.AccessDenied, 403, "AccessDenied")


def test_not_implemented_answers_oss_xml(server, bkt):
    answer = requests.put(server["endpoint"] + "/" + BUCKET + "/api/x?symlink", data=b"x" * 1000)
    assert answer.status_code == 403  # unsigned: refused before anything else
    raises_oss(lambda: bkt.put_symlink("api/target", "api/link"), oss2.exceptions.ServerError, 501,
               "NotImplemented")
    answer = requests.request("PATCH", server["endpoint"] + "/" + BUCKET + "/api/x", data=b"x" * 100)
    assert answer.status_code == 501 and answer.content.startswith(b"<?xml")
    assert b"<Code>NotImplemented</Code>" in answer.content and answer.headers["x-oss-request-id"]


# --- copy and tagging ----------------------------------------------------------------------------------

def test_copy_object(bkt):
    bkt.put_object("api/src.txt", b"source", headers={"Content-Type": "text/plain", "x-oss-meta-a": "1"})
    result = bkt.copy_object(BUCKET, "api/src.txt", "api/dst.txt")
    assert result.etag == hashlib.md5(b"source").hexdigest().upper()
    copied = bkt.get_object("api/dst.txt")
    assert copied.read() == b"source" and copied.headers["x-oss-meta-a"] == "1"
    bkt.copy_object(BUCKET, "api/src.txt", "api/dst2.txt", headers={
        "x-oss-metadata-directive": "REPLACE", "Content-Type": "text/csv"})
    replaced = bkt.head_object("api/dst2.txt")
    assert replaced.content_type == "text/csv" and "x-oss-meta-a" not in replaced.headers
    raises_oss(lambda: bkt.copy_object(BUCKET, "api/src.txt", "api/dst.txt",
                                       headers={"x-oss-forbid-overwrite": "true"}),
               oss2.exceptions.ServerError, 409, "FileAlreadyExists")
    raises_oss(lambda: bkt.copy_object(BUCKET, "api/none.txt", "api/dst3.txt"), oss2.exceptions.NoSuchKey, 404,
               "NoSuchKey")
    raises_oss(lambda: bkt.copy_object("other-bucket", "api/src.txt", "api/dst3.txt"),
               oss2.exceptions.NoSuchBucket, 404, "NoSuchBucket")


def test_object_tagging(bkt):
    bkt.put_object("api/tagged.txt", b"x")
    rule = oss2.models.TaggingRule()
    rule.add("ossgate-moderation", "pending")
    bkt.put_object_tagging("api/tagged.txt", oss2.models.Tagging(rule))
    assert bkt.get_object_tagging("api/tagged.txt").tag_set.tagging_rule == {"ossgate-moderation": "pending"}
    assert bkt.delete_object_tagging("api/tagged.txt").status == 204
    assert bkt.get_object_tagging("api/tagged.txt").tag_set.tagging_rule == {}
    raises_oss(lambda: bkt.put_object_tagging("api/untagged-missing", oss2.models.Tagging(rule)),
               oss2.exceptions.NoSuchKey, 404, "NoSuchKey")
    many = oss2.models.TaggingRule()
    for i in range(11):
        many.add("k%d" % i, "v")
    raises_oss(lambda: bkt.put_object_tagging("api/tagged.txt", oss2.models.Tagging(many)),
               oss2.exceptions.ServerError, 400, "InvalidTag")


# --- listing -------------------------------------------------------------------------------------------

def test_list_objects_v2_paging_prefix_delimiter(bkt):
    keys = ["list/a.txt", "list/b.txt", "list/sub/c.txt", "list/sub/d.txt", "list/z y+%.txt"]
    for key in keys:
        bkt.put_object(key, b"x")
    assert [o.key for o in oss2.ObjectIteratorV2(bkt, prefix="list/", max_keys=2)] == sorted(keys)
    first = bkt.list_objects_v2(prefix="list/", max_keys=2)
    assert first.is_truncated and [o.key for o in first.object_list] == keys[:2]
    rest = bkt.list_objects_v2(prefix="list/", continuation_token=first.next_continuation_token)
    assert [o.key for o in rest.object_list] == sorted(keys)[2:] and not rest.is_truncated
    grouped = bkt.list_objects_v2(prefix="list/", delimiter="/")
    assert [o.key for o in grouped.object_list] == ["list/a.txt", "list/b.txt", "list/z y+%.txt"]
    assert grouped.prefix_list == ["list/sub/"]
    after = bkt.list_objects_v2(prefix="list/", start_after="list/sub/c.txt")
    assert [o.key for o in after.object_list] == ["list/sub/d.txt", "list/z y+%.txt"]
    assert [o.key for o in oss2.ObjectIterator(bkt, prefix="list/", max_keys=1)] == sorted(keys)


def test_uploads_must_declare_their_length(server):
    host, port = server["endpoint"][len("http://"):].split(":")
    request = oss2.http.Request("PUT", server["endpoint"] + "/" + BUCKET + "/api/nolength.txt", region=REGION,
                               product="oss")
    auth()._sign_request(request, BUCKET, "api/nolength.txt")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("PUT", "/%s/api/nolength.txt" % BUCKET)
    for name, value in request.headers.items():
        if value is not None and name.lower() != "content-length":
            connection.putheader(name, value)
    connection.endheaders()
    answer = connection.getresponse()
    assert answer.status == 411 and b"<Code>MissingContentLength</Code>" in answer.read()
    connection.close()
    assert not bucket(server["endpoint"]).object_exists("api/nolength.txt")


def test_post_to_an_object_is_not_allowed(bkt):
    raises_oss(lambda: bkt._Bucket__do_object("POST", "api/x", data=b"x"), oss2.exceptions.ServerError, 405,
               "MethodNotAllowed")


def test_delete_multiple_objects(bkt):
    keys = ["multi/a.txt", "multi/b c+.txt", "multi/never-existed.txt"]
    for key in keys[:2]:
        bkt.put_object(key, b"x")
    result = bkt.batch_delete_objects(keys)  # oss2 sends encoding-type=url and Content-MD5
    assert sorted(result.deleted_keys) == sorted(keys)
    assert [o.key for o in bkt.list_objects_v2(prefix="multi/").object_list] == []


def test_a_bucket_without_a_token_refuses_one(tmp_path):
    with running_oss(tmp_path, token=None) as info:
        plain = bucket(info["endpoint"], token=None)
        assert plain.put_object("api/plain.txt", b"x").status == 200
        assert plain.get_object("api/plain.txt").read() == b"x"
        raises_oss(lambda: bucket(info["endpoint"]).get_object("api/plain.txt"), oss2.exceptions.ServerError, 403,
                   "InvalidSecurityToken")
        url = bucket(info["endpoint"]).sign_url("GET", "api/plain.txt", 60)
        assert requests.get(url).status_code == 403
        assert requests.get(plain.sign_url("GET", "api/plain.txt", 60)).content == b"x"


def test_tampered_presigned_put_is_refused(bkt):
    url = bkt.sign_url("PUT", "api/tampered-url.txt", 60, headers={"Content-Type": "text/plain"})
    signature = url.split("x-oss-signature=")[1]
    answer = requests.put(url.replace(signature, flip_last(signature)), data=b"x",
                          headers={"Content-Type": "text/plain"})
    assert answer.status_code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in answer.content
    assert not bkt.object_exists("api/tampered-url.txt")


@pytest.mark.parametrize("value", [None, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"])
def test_header_signing_needs_an_unsigned_payload_marker(server, value):
    def change(req):
        del req.headers["x-oss-content-sha256"]
        if value:
            req.headers["x-oss-content-sha256"] = value
    client = oss2.Bucket(TamperedAuth(change), server["endpoint"], BUCKET, region=REGION)
    error = raises_oss(lambda: client.put_object("api/payload.txt", b""), oss2.exceptions.InvalidArgument, 400,
                       "InvalidArgument")
    assert error.ec == "0002-00000214"


def test_resumable_download_in_ranges(bkt, tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 5)
    bkt.put_object("api/download.bin", data)
    target = tmp_path / "out.bin"
    oss2.resumable_download(bkt, "api/download.bin", str(target), multiget_threshold=1024 * 1024,
                            part_size=1024 * 1024, num_threads=2,
                            store=oss2.ResumableDownloadStore(root=str(tmp_path / "checkpoints")))
    assert target.read_bytes() == data


def test_overwrites_never_show_half_an_object(bkt, server):
    versions = {b"a" * 300_000, b"b" * 70_000}
    bkt.put_object("api/race.bin", b"a" * 300_000)
    stop, seen, problems = threading.Event(), set(), []

    def writer():
        client = bucket(server["endpoint"])
        while not stop.is_set():
            for body in versions:
                client.put_object("api/race.bin", body)

    def reader():
        client = bucket(server["endpoint"])
        for _ in range(40):
            try:
                got = client.get_object("api/race.bin")
                body = got.read()  # oss2 checks the whole body against x-oss-hash-crc64ecma here
            except Exception as error:  # noqa: BLE001 - any failure is a finding
                problems.append(repr(error))
                continue
            if body not in versions or got.etag != hashlib.md5(body).hexdigest().upper():
                problems.append((len(body), got.etag))
            seen.add(body[:1])
    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    threads[1].join()
    stop.set()
    threads[0].join()
    assert problems == [] and seen  # every read was one whole version, with its own ETag and CRC


def test_get_object_meta(bkt):
    bkt.put_object("api/meta-only.txt", b"12345", headers={"Content-Type": "text/plain", "x-oss-meta-a": "1"})
    meta = bkt.get_object_meta("api/meta-only.txt")
    assert (meta.content_length, meta.etag) == (5, hashlib.md5(b"12345").hexdigest().upper())
    assert "x-oss-meta-a" not in meta.headers and meta.headers["x-oss-last-access-time"]
    assert bkt.object_exists("api/meta-only.txt") and not bkt.object_exists("api/meta-missing.txt")
