"""The local OSS proven by code we did not write: oss2 (ProviderAuthV4, CRC checking on) against
`python -m local.oss`, with and without an STS token. Every call the SDK makes must succeed and store exactly the
bytes sent; every tampered, expired, wrongly scoped or wrongly typed request must be refused with OSS's own error
code, raised by oss2 as its ServerError subclass, with the request id."""

from datetime import datetime, timedelta

import oss2
import pytest
from oss2.credentials import StaticCredentialsProvider
from oss2.models import Tagging, TaggingRule

from sdk_harness import BUCKET, REGION, CuttingProxy, local_oss, random_file, tamper_authorization, tamper_url

PART = 100 * 1024  # OSS's smallest part size (every part but the last)


@pytest.fixture(scope="module", params=[True, False], ids=["sts", "no-token"])
def server(request, tmp_path_factory):
    with local_oss(tmp_path_factory.mktemp("oss2"), with_token=request.param) as running:
        yield running


class TamperingAuthV4(oss2.ProviderAuthV4):
    """oss2's own V4 header signature with its last hex digit changed."""

    def _sign_request(self, req, bucket_name, key, in_additional_headers=None):
        super()._sign_request(req, bucket_name, key, in_additional_headers)
        req.headers["authorization"] = tamper_authorization(req.headers["authorization"])


def make_bucket(server, endpoint=None, region=REGION, token=None, access_key_id=None, auth_class=oss2.ProviderAuthV4):
    provider = StaticCredentialsProvider(access_key_id or server.access_key_id, server.access_key_secret,
                                         server.security_token if token is None else token)
    return oss2.Bucket(auth_class(provider), endpoint or server.endpoint, BUCKET, region=region,
                       enable_crc=True, connect_timeout=10)


def crc64(data):
    crc = oss2.utils.Crc64()
    crc.update(data)
    return str(crc.crc)


def assert_refused(exc_info, klass, code, status):
    error = exc_info.value
    assert isinstance(error, klass), repr(error)
    assert (error.code, error.status) == (code, status)
    assert error.request_id and error.details.get("RequestId") == error.request_id  # header and body (or x-oss-err)
    assert error.ec, "OSS errors carry an EC"


class TwentyMinutesAgo(datetime):
    """oss2.auth's clock (it signs at datetime.utcnow()), set twenty minutes back."""

    @classmethod
    def utcnow(cls):
        return datetime.utcnow() - timedelta(minutes=20)


def assert_absent(bucket, key):
    with pytest.raises(oss2.exceptions.NoSuchKey) as caught:
        bucket.head_object(key)
    assert caught.value.request_id


def test_put_get_head_delete(server, tmp_path):
    bucket = make_bucket(server)
    data = random_file(tmp_path / "a.bin", 3000)
    put = bucket.put_object("sdk/oss2/a.txt", data, headers={"Content-Type": "text/plain"})
    assert put.status == 200 and put.crc == int(crc64(data)) and put.request_id

    got = bucket.get_object("sdk/oss2/a.txt")
    assert got.read() == data
    assert got.headers["Content-Type"] == "text/plain" and got.headers["x-oss-hash-crc64ecma"] == crc64(data)

    ranged = bucket.get_object("sdk/oss2/a.txt", byte_range=(10, 19))
    assert ranged.status == 206 and ranged.read() == data[10:20]

    head = bucket.head_object("sdk/oss2/a.txt")
    assert head.content_length == 3000 and head.etag == put.etag and head.etag == oss2.utils.md5_string(data).upper()

    assert bucket.delete_object("sdk/oss2/a.txt").status == 204
    assert_absent(bucket, "sdk/oss2/a.txt")
    with pytest.raises(oss2.exceptions.NoSuchKey) as caught:
        bucket.get_object("sdk/oss2/a.txt")
    assert_refused(caught, oss2.exceptions.NoSuchKey, "NoSuchKey", 404)


def test_static_v4_auth_classes(server):
    if server.security_token:
        auth = oss2.StsAuth(server.access_key_id, server.access_key_secret, server.security_token,
                            auth_version=oss2.AUTH_VERSION_4)
    else:
        auth = oss2.AuthV4(server.access_key_id, server.access_key_secret)
    bucket = oss2.Bucket(auth, server.endpoint, BUCKET, region=REGION, enable_crc=True)
    assert bucket.put_object("sdk/oss2/static.txt", b"static credentials").status == 200
    assert bucket.get_object("sdk/oss2/static.txt").read() == b"static credentials"


def test_keys_with_characters_that_need_encoding(server):
    bucket = make_bucket(server)
    key = "sdk/oss2/dir name/ä+b%20c~d=e&f;g.txt"
    assert bucket.put_object(key, b"odd key").status == 200
    assert bucket.get_object(key).read() == b"odd key"
    assert bucket.get_object_with_url(bucket.sign_url("GET", key, 60)).read() == b"odd key"
    assert bucket.get_object_with_url(bucket.sign_url("GET", key, 60, slash_safe=True)).read() == b"odd key"
    assert bucket.delete_object(key).status == 204
    assert_absent(bucket, key)


def test_conditional_get_and_response_headers(server):
    bucket = make_bucket(server)
    etag = bucket.put_object("sdk/oss2/cond.txt", b"conditional", headers={"Content-Type": "text/plain"}).etag
    with pytest.raises(oss2.exceptions.NotModified):
        bucket.get_object("sdk/oss2/cond.txt", headers={"If-None-Match": '"%s"' % etag})
    url = bucket.sign_url("GET", "sdk/oss2/cond.txt", 60, params={"response-content-type": "image/png",
                                                                  "response-content-disposition": "attachment"})
    got = bucket.get_object_with_url(url)
    assert got.read() == b"conditional"
    assert (got.headers["Content-Type"], got.headers["Content-Disposition"]) == ("image/png", "attachment")


def test_chunked_put(server):
    # an iterable body: oss2 sends Transfer-Encoding: chunked (no Content-Length), which OSS accepts
    bucket = make_bucket(server)
    chunks = [b"chunk-%d;" % n * 50 for n in range(5)]
    result = bucket.put_object("sdk/oss2/chunked.txt", iter(chunks))
    assert result.status == 200 and result.crc == int(crc64(b"".join(chunks)))
    assert bucket.get_object("sdk/oss2/chunked.txt").read() == b"".join(chunks)


def test_copy_and_tagging(server):
    bucket = make_bucket(server)
    data = b"copy me, tag me"
    bucket.put_object("sdk/oss2/src.txt", data, headers={"Content-Type": "text/plain"})
    copied = bucket.copy_object(BUCKET, "sdk/oss2/src.txt", "sdk/oss2/dst.txt")
    assert copied.status == 200 and copied.etag == bucket.head_object("sdk/oss2/src.txt").etag
    assert bucket.get_object("sdk/oss2/dst.txt").read() == data

    rule = TaggingRule()
    rule.add("state", "pending")
    rule.add("k", "v")
    assert bucket.put_object_tagging("sdk/oss2/dst.txt", Tagging(rule)).status == 200
    assert bucket.get_object_tagging("sdk/oss2/dst.txt").tag_set.tagging_rule == {"state": "pending", "k": "v"}
    assert bucket.delete_object_tagging("sdk/oss2/dst.txt").status == 204
    assert bucket.get_object_tagging("sdk/oss2/dst.txt").tag_set.tagging_rule == {}
    assert bucket.get_object("sdk/oss2/src.txt").read() == data


def test_resumable_upload_multipart(server, tmp_path):
    bucket = make_bucket(server)
    data = random_file(tmp_path / "big.bin", 5 * PART + 1234)
    result = oss2.resumable_upload(bucket, "sdk/oss2/big.bin", str(tmp_path / "big.bin"),
                                   store=oss2.ResumableStore(root=str(tmp_path / "cp")),
                                   multipart_threshold=PART, part_size=PART, num_threads=2)
    assert result.status == 200 and result.etag.endswith("-6")
    assert bucket.get_object("sdk/oss2/big.bin").read() == data
    assert bucket.head_object("sdk/oss2/big.bin").headers["x-oss-hash-crc64ecma"] == crc64(data)


def test_presigned_put_and_get(server):
    bucket = make_bucket(server)
    data = b"presigned body"
    put_url = bucket.sign_url("PUT", "sdk/oss2/signed.txt", 60, headers={"Content-Type": "text/plain"})
    assert "x-oss-signature-version=OSS4-HMAC-SHA256" in put_url
    assert bucket.put_object_with_url(put_url, data, headers={"Content-Type": "text/plain"}).status == 200
    get_url = bucket.sign_url("GET", "sdk/oss2/signed.txt", 60)
    assert bucket.get_object_with_url(get_url).read() == data


def test_interrupted_resumable_upload_resumes(server, tmp_path):
    source = tmp_path / "cut.bin"
    data = random_file(source, 10 * PART + 777)
    store = oss2.ResumableStore(root=str(tmp_path / "cp"))
    proxy = CuttingProxy(("127.0.0.1", int(server.endpoint.rsplit(":", 1)[1])), budget=len(data) // 2)
    try:
        bucket = make_bucket(server, endpoint=proxy.endpoint)
        with pytest.raises(oss2.exceptions.RequestError):
            oss2.resumable_upload(bucket, "sdk/oss2/cut.bin", str(source), store=store,
                                  multipart_threshold=PART, part_size=PART, num_threads=1)
        assert proxy.cut and store.get(store.make_store_key(BUCKET, "sdk/oss2/cut.bin", str(source)))
        assert_absent(make_bucket(server), "sdk/oss2/cut.bin")

        proxy.restore()
        result = oss2.resumable_upload(bucket, "sdk/oss2/cut.bin", str(source), store=store,
                                       multipart_threshold=PART, part_size=PART, num_threads=1)
        assert result.status == 200
        assert 0 < proxy.sent < len(data) - 3 * PART, "the parts OSS already held were sent again"
    finally:
        proxy.close()
    bucket = make_bucket(server)
    assert bucket.get_object("sdk/oss2/cut.bin").read() == data
    assert bucket.head_object("sdk/oss2/cut.bin").headers["x-oss-hash-crc64ecma"] == crc64(data)


# ---- refusals ----

def test_tampered_header_signature_is_refused(server):
    bucket = make_bucket(server, auth_class=TamperingAuthV4)
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        bucket.put_object("sdk/oss2/tampered.txt", b"x")
    assert_refused(caught, oss2.exceptions.SignatureDoesNotMatch, "SignatureDoesNotMatch", 403)
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        bucket.head_object("sdk/oss2/tampered.txt")
    assert_refused(caught, oss2.exceptions.SignatureDoesNotMatch, "SignatureDoesNotMatch", 403)
    assert_absent(make_bucket(server), "sdk/oss2/tampered.txt")


def test_tampered_presigned_url_is_refused(server):
    bucket = make_bucket(server)
    bucket.put_object("sdk/oss2/t.txt", b"t")
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        bucket.get_object_with_url(tamper_url(bucket.sign_url("GET", "sdk/oss2/t.txt", 60)))
    assert_refused(caught, oss2.exceptions.SignatureDoesNotMatch, "SignatureDoesNotMatch", 403)
    put_url = bucket.sign_url("PUT", "sdk/oss2/t2.txt", 60, headers={"Content-Type": "text/plain"})
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        bucket.put_object_with_url(tamper_url(put_url), b"x", headers={"Content-Type": "text/plain"})
    assert_refused(caught, oss2.exceptions.SignatureDoesNotMatch, "SignatureDoesNotMatch", 403)
    assert_absent(bucket, "sdk/oss2/t2.txt")


def test_expired_presigned_url_is_refused(server, monkeypatch):
    bucket = make_bucket(server)
    bucket.put_object("sdk/oss2/e.txt", b"e")
    monkeypatch.setattr(oss2.auth, "datetime", TwentyMinutesAgo)
    get_url = bucket.sign_url("GET", "sdk/oss2/e.txt", 600)  # signed 20 minutes ago, valid for 10
    put_url = bucket.sign_url("PUT", "sdk/oss2/e2.txt", 600, headers={"Content-Type": "text/plain"})
    still_valid = bucket.sign_url("GET", "sdk/oss2/e.txt", 3600)  # signed 20 minutes ago, valid for an hour
    monkeypatch.undo()
    assert bucket.get_object_with_url(still_valid).read() == b"e"
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        bucket.get_object_with_url(get_url)
    assert_refused(caught, oss2.exceptions.AccessDenied, "AccessDenied", 403)
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        bucket.put_object_with_url(put_url, b"x", headers={"Content-Type": "text/plain"})
    assert_refused(caught, oss2.exceptions.AccessDenied, "AccessDenied", 403)
    assert_absent(bucket, "sdk/oss2/e2.txt")


def test_header_signed_twenty_minutes_ago_is_refused(server, monkeypatch):
    bucket = make_bucket(server)
    monkeypatch.setattr(oss2.auth, "datetime", TwentyMinutesAgo)
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        bucket.put_object("sdk/oss2/skew.txt", b"x")
    monkeypatch.undo()
    assert_refused(caught, oss2.exceptions.ServerError, "RequestTimeTooSkewed", 403)
    assert_absent(bucket, "sdk/oss2/skew.txt")


def test_presigned_put_with_an_unsigned_content_type_is_refused(server):
    bucket = make_bucket(server)
    put_url = bucket.sign_url("PUT", "sdk/oss2/ct.txt", 60, headers={"Content-Type": "text/plain"})
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        bucket.put_object_with_url(put_url, b"{}", headers={"Content-Type": "application/json"})
    assert_refused(caught, oss2.exceptions.SignatureDoesNotMatch, "SignatureDoesNotMatch", 403)
    assert_absent(bucket, "sdk/oss2/ct.txt")


# Real OSS answers a signature scoped to another region with 400 InvalidArgument "Invalid signing region in
# Authorization header." (EC 0002-00000226), as reported in github.com/aliyun/alibabacloud-oss-go-sdk-v2/issues/29.
@pytest.mark.parametrize("wrong, klass, code, status", [
    ({"token": "CAISnot-the-token"}, oss2.exceptions.ServerError, "InvalidSecurityToken", 403),
    ({"access_key_id": "LTAI5tNoSuchKeyId"}, oss2.exceptions.ServerError, "InvalidAccessKeyId", 403),
    ({"region": "cn-shanghai"}, oss2.exceptions.InvalidArgument, "InvalidArgument", 400),
], ids=["token", "access-key-id", "region"])
def test_a_wrong_credential_is_refused(server, wrong, klass, code, status):
    if "token" in wrong and not server.security_token:
        pytest.skip("the no-token server has no token to get wrong")
    key = "sdk/oss2/wrong-%s.txt" % code
    bucket = make_bucket(server, **wrong)
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        bucket.put_object(key, b"x")
    assert_refused(caught, klass, code, status)
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        bucket.put_object_with_url(bucket.sign_url("PUT", key, 60), b"x")
    assert_refused(caught, klass, code, status)
    assert_absent(make_bucket(server), key)


class ChangeAfterSigning(oss2.ProviderAuthV4):
    """oss2 signs the request, then one signed header is changed before it is sent."""

    changes = {}

    def _sign_request(self, req, bucket_name, key, in_additional_headers=None):
        super()._sign_request(req, bucket_name, key, in_additional_headers)
        req.headers.update(self.changes)


@pytest.mark.parametrize("changes", [{"Content-Type": "application/json"}, {"x-oss-meta-owner": "mallory"},
                                     {"x-oss-forbid-overwrite": "false"}], ids=["content-type", "meta", "x-oss-header"])
def test_a_header_changed_after_signing_is_refused(server, changes):
    auth_class = type("Change", (ChangeAfterSigning,), {"changes": changes})
    bucket = make_bucket(server, auth_class=auth_class)
    key = "sdk/oss2/changed-%s.txt" % next(iter(changes)).lower()
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        bucket.put_object(key, b"x", headers={"Content-Type": "text/plain", "x-oss-meta-owner": "alice",
                                              "x-oss-forbid-overwrite": "true"})
    assert_refused(caught, oss2.exceptions.SignatureDoesNotMatch, "SignatureDoesNotMatch", 403)
    assert_absent(make_bucket(server), key)


def test_a_presigned_url_is_good_for_its_own_request_only(server):
    bucket = make_bucket(server)
    bucket.put_object("sdk/oss2/mine.txt", b"mine")
    bucket.put_object("sdk/oss2/other.txt", b"other")
    url = bucket.sign_url("GET", "sdk/oss2/mine.txt", 60)
    assert bucket.get_object_with_url(url).read() == b"mine"
    for misuse in (url + "&response-content-type=text%2Fhtml",            # a query parameter added
                   url.replace("sdk%2Foss2%2Fmine.txt", "sdk%2Foss2%2Fother.txt")):  # another key
        assert misuse != url
        with pytest.raises(oss2.exceptions.ServerError) as caught:
            bucket.get_object_with_url(misuse)
        assert_refused(caught, oss2.exceptions.SignatureDoesNotMatch, "SignatureDoesNotMatch", 403)
    with pytest.raises(oss2.exceptions.ServerError) as caught:  # another method
        bucket.put_object_with_url(url, b"overwritten")
    assert_refused(caught, oss2.exceptions.SignatureDoesNotMatch, "SignatureDoesNotMatch", 403)
    assert bucket.get_object("sdk/oss2/mine.txt").read() == b"mine"


def test_a_presigned_url_with_a_signed_host_header(server):
    bucket = make_bucket(server)
    bucket.put_object("sdk/oss2/host.txt", b"host")
    host = server.endpoint.split("//", 1)[1]
    url = bucket.sign_url("GET", "sdk/oss2/host.txt", 60, headers={"Host": host}, additional_headers=["host"])
    assert "x-oss-additional-headers=host" in url
    assert bucket.get_object_with_url(url).read() == b"host"
    with pytest.raises(oss2.exceptions.ServerError) as caught:  # the same bucket, path-style, by another name
        bucket.get_object_with_url(url, headers={"Host": "localhost:" + host.split(":")[1]})
    assert_refused(caught, oss2.exceptions.SignatureDoesNotMatch, "SignatureDoesNotMatch", 403)


def test_put_object_rules(server):
    bucket = make_bucket(server)
    bucket.put_object("sdk/oss2/once.txt", b"first")
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        bucket.put_object("sdk/oss2/once.txt", b"second", headers={"x-oss-forbid-overwrite": "true"})
    assert_refused(caught, oss2.exceptions.ServerError, "FileAlreadyExists", 409)
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        bucket.put_object("sdk/oss2/md5.txt", b"body", headers={"Content-MD5": oss2.utils.content_md5(b"other")})
    assert_refused(caught, oss2.exceptions.InvalidDigest, "InvalidDigest", 400)
    assert bucket.get_object("sdk/oss2/once.txt").read() == b"first"
    assert_absent(bucket, "sdk/oss2/md5.txt")


def test_multipart_rules(server):
    bucket = make_bucket(server)
    key = "sdk/oss2/parts.bin"
    upload_id = bucket.init_multipart_upload(key).upload_id
    small = bucket.upload_part(key, upload_id, 1, b"a" * 1000)
    last = bucket.upload_part(key, upload_id, 2, b"b" * 10)
    parts = [oss2.models.PartInfo(1, small.etag), oss2.models.PartInfo(2, last.etag)]
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        bucket.complete_multipart_upload(key, upload_id, parts)
    assert_refused(caught, oss2.exceptions.ServerError, "EntityTooSmall", 400)
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        bucket.complete_multipart_upload(key, upload_id, [oss2.models.PartInfo(1, "0" * 32)])
    assert_refused(caught, oss2.exceptions.ServerError, "InvalidPart", 400)
    listed = bucket.list_parts(key, upload_id)
    assert [(p.part_number, p.etag, p.size) for p in listed.parts] == [(1, small.etag, 1000), (2, last.etag, 10)]
    assert bucket.abort_multipart_upload(key, upload_id).status == 204
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        bucket.list_parts(key, upload_id)
    assert_refused(caught, oss2.exceptions.NoSuchUpload, "NoSuchUpload", 404)
    assert_absent(bucket, key)


def test_list_objects_v2_pages(server):
    bucket = make_bucket(server)
    keys = ["sdk/oss2/list/%d.txt" % n for n in range(5)] + ["sdk/oss2/list/ä b+c.txt", "sdk/oss2/list/sub/x.txt"]
    for key in keys:
        bucket.put_object(key, key.encode())
    listed = [o.key for o in oss2.ObjectIteratorV2(bucket, prefix="sdk/oss2/list/", max_keys=2)]
    assert listed == sorted(keys, key=lambda k: k.encode())
    entries = list(oss2.ObjectIteratorV2(bucket, prefix="sdk/oss2/list/", delimiter="/", max_keys=3))
    expected = [(k, False) for k in keys if "/sub/" not in k] + [("sdk/oss2/list/sub/", True)]
    assert sorted((e.key, e.is_prefix()) for e in entries) == sorted(expected)


def test_presigned_upload_parts_then_complete(server):
    # the project's multipart route: the server initiates and presigns UploadPart, the client PUTs the parts
    bucket = make_bucket(server)
    key = "sdk/oss2/presigned-parts.bin"
    parts = [b"p" * PART, b"q" * 1234]
    upload_id = bucket.init_multipart_upload(key, headers={"Content-Type": "image/png"}).upload_id
    signed = "application/octet-stream"
    urls = [bucket.sign_url("PUT", key, 60, headers={"Content-Type": signed},
                            params={"partNumber": str(n), "uploadId": upload_id}) for n in (1, 2)]
    with pytest.raises(oss2.exceptions.ServerError) as caught:  # wx.request's default Content-Type
        bucket.put_object_with_url(urls[0], parts[0], headers={"Content-Type": "application/json"})
    assert_refused(caught, oss2.exceptions.SignatureDoesNotMatch, "SignatureDoesNotMatch", 403)
    for url, body in zip(urls, parts):
        answer = bucket.put_object_with_url(url, body, headers={"Content-Type": signed})
        assert answer.etag == oss2.utils.md5_string(body).upper() and answer.crc == int(crc64(body))
    listed = bucket.list_parts(key, upload_id).parts
    done = bucket.complete_multipart_upload(key, upload_id, [oss2.models.PartInfo(p.part_number, p.etag) for p in listed],
                                            headers={"x-oss-forbid-overwrite": "true"})
    assert done.status == 200 and done.crc == int(crc64(b"".join(parts)))
    got = bucket.get_object(key)
    assert got.read() == b"".join(parts) and got.headers["Content-Type"] == "image/png"


def test_ranges_out_of_bounds_return_the_whole_object(server):
    # OSS's default (no x-oss-range-behavior, which oss2 never sends): a range outside 0..size-1 "does not take
    # effect": 200 and the whole object. https://www.alibabacloud.com/help/en/oss/how-to-obtain-oss-resources-by-segmenting-http-range-requests
    bucket = make_bucket(server)
    data = bytes(range(100))
    bucket.put_object("sdk/oss2/ranges.bin", data)
    for inside, expected in (((None, 10), data[90:]), ((95, None), data[95:]), ((10, 19), data[10:20])):
        got = bucket.get_object("sdk/oss2/ranges.bin", byte_range=inside)
        assert (got.status, got.read()) == (206, expected)
    for outside in ((90, 100), (100, 200), (1000, None)):
        got = bucket.get_object("sdk/oss2/ranges.bin", byte_range=outside)
        assert (got.status, got.read()) == (200, data), outside
        assert "Content-Range" not in got.headers


def test_copy_metadata_tags_and_conditions(server):
    bucket = make_bucket(server)
    bucket.put_object("sdk/oss2/meta.txt", b"aaa", headers={"Content-Type": "text/plain", "x-oss-meta-x": "1",
                                                            "x-oss-tagging": "k1=v1&k2=v2"})
    assert bucket.get_object_tagging("sdk/oss2/meta.txt").tag_set.tagging_rule == {"k1": "v1", "k2": "v2"}

    bucket.copy_object(BUCKET, "sdk/oss2/meta.txt", "sdk/oss2/meta-copy.txt")  # COPY: metadata and tags come along
    head = bucket.head_object("sdk/oss2/meta-copy.txt")
    assert (head.content_type, head.headers.get("x-oss-meta-x")) == ("text/plain", "1")
    assert bucket.get_object_tagging("sdk/oss2/meta-copy.txt").tag_set.tagging_rule == {"k1": "v1", "k2": "v2"}

    bucket.copy_object(BUCKET, "sdk/oss2/meta.txt", "sdk/oss2/meta-replaced.txt",
                       headers={"x-oss-metadata-directive": "REPLACE", "Content-Type": "image/png", "x-oss-meta-y": "2"})
    head = bucket.head_object("sdk/oss2/meta-replaced.txt")
    assert (head.content_type, head.headers.get("x-oss-meta-x"), head.headers.get("x-oss-meta-y")) == ("image/png", None, "2")

    with pytest.raises(oss2.exceptions.ServerError) as caught:
        bucket.copy_object(BUCKET, "sdk/oss2/meta.txt", "sdk/oss2/meta-copy.txt", headers={"x-oss-forbid-overwrite": "true"})
    assert_refused(caught, oss2.exceptions.ServerError, "FileAlreadyExists", 409)
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        bucket.copy_object(BUCKET, "sdk/oss2/no-such.txt", "sdk/oss2/never.txt")
    assert_refused(caught, oss2.exceptions.NoSuchKey, "NoSuchKey", 404)
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        bucket.get_object("sdk/oss2/meta.txt", headers={"If-Match": '"00000000000000000000000000000000"'})
    assert_refused(caught, oss2.exceptions.PreconditionFailed, "PreconditionFailed", 412)
    assert bucket.delete_object("sdk/oss2/no-such.txt").status == 204  # deleting what is not there succeeds


def test_an_upload_resumes_after_the_server_restarts(server, tmp_path):
    # the parts an interrupted upload left are on disk: a new local.oss process over the same data lists them
    source = tmp_path / "restart.bin"
    data = random_file(source, 6 * PART + 3)
    store = oss2.ResumableStore(root=str(tmp_path / "cp"))
    key = "sdk/oss2/restart.bin"
    with local_oss(tmp_path / "data", with_token=bool(server.security_token)) as first:
        proxy = CuttingProxy(("127.0.0.1", int(first.endpoint.rsplit(":", 1)[1])), budget=len(data) // 2)
        try:
            with pytest.raises(oss2.exceptions.RequestError):
                oss2.resumable_upload(make_bucket(first, endpoint=proxy.endpoint), key, str(source), store=store,
                                      multipart_threshold=PART, part_size=PART, num_threads=1)
        finally:
            proxy.close()
    with local_oss(tmp_path / "data", with_token=bool(server.security_token), same_as=first) as second:
        bucket = make_bucket(second)
        record = store.get(store.make_store_key(BUCKET, key, str(source)))
        held = bucket.list_parts(key, record["upload_id"]).parts
        assert 0 < len(held) < 7
        result = oss2.resumable_upload(bucket, key, str(source), store=store, multipart_threshold=PART,
                                       part_size=PART, num_threads=1)
        assert result.status == 200
        assert bucket.get_object(key).read() == data
        assert bucket.head_object(key).headers["x-oss-hash-crc64ecma"] == crc64(data)
