"""The local OSS proven by code we did not write: alibabacloud-oss-v2 (V4 header and query signing, its default
CRC-64 checks on) against `python -m local.oss`, with and without an STS token. Every call must succeed and store
exactly the bytes sent; every tampered, expired, wrongly scoped or wrongly typed request must be refused with OSS's
own error code, raised by the SDK as a ServiceError carrying the status, the code and the request id."""

import datetime
import os
import types
import xml.etree.ElementTree as ElementTree

import alibabacloud_oss_v2 as oss
import pytest
import requests
from alibabacloud_oss_v2.crc import Crc64
from alibabacloud_oss_v2.transport import RequestsHttpClient

from sdk_harness import BUCKET, REGION, CuttingProxy, local_oss, random_file, tamper_authorization, tamper_url

PART = 100 * 1024  # OSS's smallest part size (every part but the last)


@pytest.fixture(scope="module", params=[True, False], ids=["sts", "no-token"])
def server(request, tmp_path_factory):
    with local_oss(tmp_path_factory.mktemp("ossv2"), with_token=request.param) as running:
        yield running


class TamperingHttpClient(RequestsHttpClient):
    """Sends what the SDK signed, with one byte of the Authorization header's signature changed."""

    def send(self, request, **kwargs):
        request.headers["Authorization"] = tamper_authorization(request.headers["Authorization"])
        return super().send(request, **kwargs)


class _TwentyMinutesAgo(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime.datetime.now(tz) - datetime.timedelta(minutes=20)


# The v4 signer's clock (it signs at datetime.datetime.now()), set twenty minutes back.
CLOCK_TWENTY_MINUTES_AGO = types.SimpleNamespace(datetime=_TwentyMinutesAgo, timezone=datetime.timezone,
                                                 timedelta=datetime.timedelta)


def make_client(server, endpoint=None, region=REGION, token=None, access_key_id=None, http_client=None,
                retry_max_attempts=1):
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
        access_key_id or server.access_key_id, server.access_key_secret,
        server.security_token if token is None else token)
    cfg.region = region
    cfg.endpoint = endpoint or server.endpoint
    cfg.use_path_style = True
    cfg.retry_max_attempts = retry_max_attempts  # 1: a refusal (even RequestTimeTooSkewed) is not retried
    if http_client is not None:
        cfg.http_client = http_client
    return oss.Client(cfg)


def crc64(data):
    crc = Crc64(0)
    crc.update(data)
    return str(crc.sum64())


def service_error(exc_info):
    error = exc_info.value
    while not isinstance(error, oss.exceptions.ServiceError) and hasattr(error, "unwrap"):
        error = error.unwrap()
    assert isinstance(error, oss.exceptions.ServiceError), repr(exc_info.value)
    return error


def assert_refused(exc_info, code, status):
    error = service_error(exc_info)
    assert (error.code, error.status_code) == (code, status), str(error)
    assert error.request_id and error.ec, str(error)
    # the same id in the x-oss-request-id header and in the XML body (for HEAD: the x-oss-err header)
    assert error.headers.get("x-oss-request-id") == error.request_id == error.error_fileds.get("RequestId")


def assert_raw_refusal(response, code, status):
    """A presigned URL is sent by plain HTTP, not by the SDK: OSS's XML error, with the request id."""
    assert response.status_code == status, response.text
    root = ElementTree.fromstring(response.content)
    assert root.findtext("Code") == code, response.text
    assert root.findtext("RequestId") == response.headers["x-oss-request-id"] != ""
    assert root.findtext("EC"), response.text


def assert_absent(client, key):
    with pytest.raises(oss.exceptions.OperationError) as caught:
        client.head_object(oss.HeadObjectRequest(bucket=BUCKET, key=key))
    assert_refused(caught, "NoSuchKey", 404)


def put(client, key, data, content_type="text/plain"):
    return client.put_object(oss.PutObjectRequest(bucket=BUCKET, key=key, body=data, content_type=content_type))


def test_put_get_head_delete(server, tmp_path):
    client = make_client(server)
    data = random_file(tmp_path / "a.bin", 4000)
    result = put(client, "sdk/v2/a.txt", data)
    assert result.status_code == 200 and result.hash_crc64 == crc64(data) and result.request_id

    got = client.get_object(oss.GetObjectRequest(bucket=BUCKET, key="sdk/v2/a.txt"))
    assert got.body.read() == data and got.content_type == "text/plain" and got.hash_crc64 == crc64(data)

    # get_object_to_file checks the CRC-64 as it writes; it loops `range(1, retry attempts)`, so it needs 2 or more.
    downloaded = make_client(server, retry_max_attempts=3).get_object_to_file(
        oss.GetObjectRequest(bucket=BUCKET, key="sdk/v2/a.txt"), str(tmp_path / "down.bin"))
    assert downloaded.hash_crc64 == crc64(data) and (tmp_path / "down.bin").read_bytes() == data

    ranged = client.get_object(oss.GetObjectRequest(bucket=BUCKET, key="sdk/v2/a.txt", range_header="bytes=100-199"))
    assert ranged.status_code == 206 and ranged.body.read() == data[100:200]

    head = client.head_object(oss.HeadObjectRequest(bucket=BUCKET, key="sdk/v2/a.txt"))
    assert head.content_length == 4000 and head.etag == result.etag and head.hash_crc64 == crc64(data)

    deleted = client.delete_object(oss.DeleteObjectRequest(bucket=BUCKET, key="sdk/v2/a.txt"))
    assert deleted.status_code == 204
    assert_absent(client, "sdk/v2/a.txt")
    with pytest.raises(oss.exceptions.OperationError) as caught:
        client.get_object(oss.GetObjectRequest(bucket=BUCKET, key="sdk/v2/a.txt"))
    assert_refused(caught, "NoSuchKey", 404)


def test_uploader_multipart(server, tmp_path):
    client = make_client(server)
    source = tmp_path / "big.bin"
    data = random_file(source, 4 * PART + 99)
    result = client.uploader(part_size=PART, parallel_num=2).upload_file(
        oss.PutObjectRequest(bucket=BUCKET, key="sdk/v2/big.bin"), str(source))
    assert result.status_code == 200 and result.upload_id and result.etag.endswith('-5"')
    assert result.hash_crc64 == crc64(data)
    got = client.get_object(oss.GetObjectRequest(bucket=BUCKET, key="sdk/v2/big.bin"))
    assert got.body.read() == data and got.hash_crc64 == crc64(data)


def test_uploader_with_a_key_that_needs_encoding(server, tmp_path):
    # the SDK sends encoding-type=url on Initiate, ListParts and Complete and decodes the keys it gets back
    client = make_client(server)
    source = tmp_path / "odd.bin"
    data = random_file(source, 2 * PART + 1)
    key = "sdk/v2/dir name/ä+b%20c~d=e&f;g.bin"
    result = client.uploader(part_size=PART, parallel_num=1).upload_file(
        oss.PutObjectRequest(bucket=BUCKET, key=key), str(source))
    assert result.status_code == 200 and result.hash_crc64 == crc64(data)
    assert client.get_object(oss.GetObjectRequest(bucket=BUCKET, key=key)).body.read() == data
    signed = client.presign(oss.GetObjectRequest(bucket=BUCKET, key=key))
    assert requests.get(signed.url, timeout=10).content == data


def test_query_signed_operations(server):
    client = make_client(server)
    data = b"signed in the query"
    result = client.put_object(oss.PutObjectRequest(bucket=BUCKET, key="sdk/v2/q.txt", body=data,
                                                    content_type="text/plain"), auth_method="query")
    assert result.status_code == 200
    got = client.get_object(oss.GetObjectRequest(bucket=BUCKET, key="sdk/v2/q.txt"), auth_method="query")
    assert got.body.read() == data


def test_presigned_put_and_get(server):
    client = make_client(server)
    data = b"presigned by the v2 SDK"
    signed_put = client.presign(oss.PutObjectRequest(bucket=BUCKET, key="sdk/v2/p.txt", content_type="text/plain"),
                                expires=datetime.timedelta(minutes=5))
    assert signed_put.method == "PUT" and signed_put.signed_headers == {"Content-Type": "text/plain"}
    answer = requests.put(signed_put.url, data=data, headers=signed_put.signed_headers, timeout=10)
    assert answer.status_code == 200 and answer.headers["x-oss-hash-crc64ecma"] == crc64(data)
    signed_get = client.presign(oss.GetObjectRequest(bucket=BUCKET, key="sdk/v2/p.txt"))
    answer = requests.get(signed_get.url, timeout=10)
    assert answer.status_code == 200 and answer.content == data


def test_interrupted_uploader_resumes_from_its_checkpoint(server, tmp_path):
    source = tmp_path / "cut.bin"
    data = random_file(source, 10 * PART + 4321)
    checkpoints = tmp_path / "cp"
    checkpoints.mkdir()
    proxy = CuttingProxy(("127.0.0.1", int(server.endpoint.rsplit(":", 1)[1])), budget=len(data) // 2)
    try:
        # The SDK keeps its checkpoint in os.path.dirname(checkpoint_dir): the folder is given with a trailing "/".
        uploader = make_client(server, endpoint=proxy.endpoint).uploader(
            part_size=PART, parallel_num=1, enable_checkpoint=True, checkpoint_dir=str(checkpoints) + os.sep)
        request = oss.PutObjectRequest(bucket=BUCKET, key="sdk/v2/cut.bin")
        with pytest.raises(oss.exceptions.BaseError):
            uploader.upload_file(request, str(source))
        assert proxy.cut and list(checkpoints.iterdir()), "the uploader kept its checkpoint"
        assert_absent(make_client(server), "sdk/v2/cut.bin")

        proxy.restore()
        result = uploader.upload_file(oss.PutObjectRequest(bucket=BUCKET, key="sdk/v2/cut.bin"), str(source))
        assert result.status_code == 200 and result.hash_crc64 == crc64(data)
        assert 0 < proxy.sent < len(data) - 3 * PART, "the parts OSS already held were sent again"
        assert not list(checkpoints.iterdir()), "a finished upload forgets its checkpoint"
    finally:
        proxy.close()
    got = make_client(server).get_object(oss.GetObjectRequest(bucket=BUCKET, key="sdk/v2/cut.bin"))
    assert got.body.read() == data and got.hash_crc64 == crc64(data)


# ---- refusals ----

def test_tampered_header_signature_is_refused(server):
    client = make_client(server, http_client=TamperingHttpClient())
    with pytest.raises(oss.exceptions.OperationError) as caught:
        put(client, "sdk/v2/tampered.txt", b"x")
    assert_refused(caught, "SignatureDoesNotMatch", 403)
    with pytest.raises(oss.exceptions.OperationError) as caught:
        client.head_object(oss.HeadObjectRequest(bucket=BUCKET, key="sdk/v2/tampered.txt"))
    assert_refused(caught, "SignatureDoesNotMatch", 403)
    assert_absent(make_client(server), "sdk/v2/tampered.txt")


def test_tampered_presigned_url_is_refused(server):
    client = make_client(server)
    put(client, "sdk/v2/t.txt", b"t")
    signed_get = client.presign(oss.GetObjectRequest(bucket=BUCKET, key="sdk/v2/t.txt"))
    assert_raw_refusal(requests.get(tamper_url(signed_get.url), timeout=10), "SignatureDoesNotMatch", 403)
    signed_put = client.presign(oss.PutObjectRequest(bucket=BUCKET, key="sdk/v2/t2.txt", content_type="text/plain"))
    answer = requests.put(tamper_url(signed_put.url), data=b"x", headers=signed_put.signed_headers, timeout=10)
    assert_raw_refusal(answer, "SignatureDoesNotMatch", 403)
    assert_absent(client, "sdk/v2/t2.txt")


def test_expired_presigned_url_is_refused(server, monkeypatch):
    client = make_client(server)
    put(client, "sdk/v2/e.txt", b"e")
    monkeypatch.setattr(oss.signer.v4, "datetime", CLOCK_TWENTY_MINUTES_AGO)
    expired = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)  # valid for 10 minutes
    signed_get = client.presign(oss.GetObjectRequest(bucket=BUCKET, key="sdk/v2/e.txt"), expiration=expired)
    signed_put = client.presign(oss.PutObjectRequest(bucket=BUCKET, key="sdk/v2/e2.txt", content_type="text/plain"),
                                expiration=expired)
    still_valid = client.presign(oss.GetObjectRequest(bucket=BUCKET, key="sdk/v2/e.txt"),
                                 expiration=expired + datetime.timedelta(minutes=50))  # valid for an hour
    monkeypatch.undo()
    assert requests.get(still_valid.url, timeout=10).content == b"e"
    assert_raw_refusal(requests.get(signed_get.url, timeout=10), "AccessDenied", 403)
    answer = requests.put(signed_put.url, data=b"x", headers=signed_put.signed_headers, timeout=10)
    assert_raw_refusal(answer, "AccessDenied", 403)
    assert_absent(client, "sdk/v2/e2.txt")


def test_header_signed_twenty_minutes_ago_is_refused(server, monkeypatch):
    client = make_client(server)
    monkeypatch.setattr(oss.signer.v4, "datetime", CLOCK_TWENTY_MINUTES_AGO)
    with pytest.raises(oss.exceptions.OperationError) as caught:
        put(client, "sdk/v2/skew.txt", b"x")
    monkeypatch.undo()
    assert_refused(caught, "RequestTimeTooSkewed", 403)
    assert_absent(client, "sdk/v2/skew.txt")


def test_presigned_put_with_an_unsigned_content_type_is_refused(server):
    client = make_client(server)
    signed_put = client.presign(oss.PutObjectRequest(bucket=BUCKET, key="sdk/v2/ct.txt", content_type="text/plain"))
    answer = requests.put(signed_put.url, data=b"{}", headers={"Content-Type": "application/json"}, timeout=10)
    assert_raw_refusal(answer, "SignatureDoesNotMatch", 403)
    assert_absent(client, "sdk/v2/ct.txt")


# Real OSS answers a signature scoped to another region with 400 InvalidArgument "Invalid signing region in
# Authorization header." (EC 0002-00000226), as reported in github.com/aliyun/alibabacloud-oss-go-sdk-v2/issues/29.
@pytest.mark.parametrize("wrong, code, status", [
    ({"token": "CAISnot-the-token"}, "InvalidSecurityToken", 403),
    ({"access_key_id": "LTAI5tNoSuchKeyId"}, "InvalidAccessKeyId", 403),
    ({"region": "cn-shanghai"}, "InvalidArgument", 400),
], ids=["token", "access-key-id", "region"])
def test_a_wrong_credential_is_refused(server, wrong, code, status):
    if "token" in wrong and not server.security_token:
        pytest.skip("the no-token server has no token to get wrong")
    key = "sdk/v2/wrong-%s.txt" % code
    client = make_client(server, **wrong)
    with pytest.raises(oss.exceptions.OperationError) as caught:
        put(client, key, b"x")
    assert_refused(caught, code, status)
    signed_put = client.presign(oss.PutObjectRequest(bucket=BUCKET, key=key, content_type="text/plain"))
    answer = requests.put(signed_put.url, data=b"x", headers=signed_put.signed_headers, timeout=10)
    assert_raw_refusal(answer, code, status)
    assert_absent(make_client(server), key)


class ChangingHttpClient(RequestsHttpClient):
    """Sends what the SDK signed, with one signed header changed after signing."""

    def __init__(self, changes):
        super().__init__()
        self.changes = changes

    def send(self, request, **kwargs):
        request.headers.update(self.changes)
        return super().send(request, **kwargs)


@pytest.mark.parametrize("changes", [{"Content-Type": "application/json"}, {"x-oss-meta-owner": "mallory"}],
                         ids=["content-type", "meta"])
def test_a_header_changed_after_signing_is_refused(server, changes):
    client = make_client(server, http_client=ChangingHttpClient(changes))
    key = "sdk/v2/changed-%s.txt" % next(iter(changes)).lower()
    with pytest.raises(oss.exceptions.OperationError) as caught:
        client.put_object(oss.PutObjectRequest(bucket=BUCKET, key=key, body=b"x",
                                               content_type="text/plain", metadata={"owner": "alice"}))
    assert_refused(caught, "SignatureDoesNotMatch", 403)
    assert_absent(make_client(server), key)


def test_complete_checks_part_order_and_sizes(server):
    client = make_client(server)
    key = "sdk/v2/order.bin"
    first, second = b"1" * PART, b"2" * 10
    upload_id = client.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(bucket=BUCKET, key=key)).upload_id
    etags = [client.upload_part(oss.UploadPartRequest(bucket=BUCKET, key=key, upload_id=upload_id, part_number=n,
                                                      body=body)).etag for n, body in ((1, first), (2, second))]

    def complete(numbers):
        parts = [oss.UploadPart(part_number=n, etag=etags[n - 1]) for n in numbers]
        return client.complete_multipart_upload(oss.CompleteMultipartUploadRequest(
            bucket=BUCKET, key=key, upload_id=upload_id,
            complete_multipart_upload=oss.CompleteMultipartUpload(parts=parts)))

    with pytest.raises(oss.exceptions.OperationError) as caught:
        complete([2, 1])
    assert_refused(caught, "InvalidPartOrder", 400)
    assert_absent(client, key)
    result = complete([1, 2])
    assert result.status_code == 200 and result.etag.endswith('-2"') and result.hash_crc64 == crc64(first + second)
    got = client.get_object(oss.GetObjectRequest(bucket=BUCKET, key=key))
    assert got.body.read() == first + second


def test_list_objects_v2_pages(server):
    client = make_client(server)
    keys = ["sdk/v2/list/%d.txt" % n for n in range(5)] + ["sdk/v2/list/ä b+c.txt"]
    for key in keys:
        put(client, key, key.encode())
    paginator = client.list_objects_v2_paginator(limit=2)
    pages = list(paginator.iter_page(oss.ListObjectsV2Request(bucket=BUCKET, prefix="sdk/v2/list/")))
    assert len(pages) == 3 and pages[0].is_truncated and not pages[-1].is_truncated
    assert [o.key for page in pages for o in page.contents] == sorted(keys, key=lambda k: k.encode())


def test_presigned_upload_parts_then_complete(server):
    client = make_client(server)
    key = "sdk/v2/presigned-parts.bin"
    parts = [b"p" * PART, b"q" * 777]
    upload_id = client.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(
        bucket=BUCKET, key=key, content_type="image/png")).upload_id
    for number, body in enumerate(parts, 1):
        signed = client.presign(oss.UploadPartRequest(bucket=BUCKET, key=key, upload_id=upload_id,
                                                      part_number=number))
        assert signed.method == "PUT" and "uploadId=" in signed.url and "partNumber=%d" % number in signed.url
        refused = requests.put(signed.url, data=body, headers={"Content-Type": "application/json"}, timeout=10)
        assert_raw_refusal(refused, "SignatureDoesNotMatch", 403)
        answer = requests.put(signed.url, data=body, headers=signed.signed_headers, timeout=10)
        assert answer.status_code == 200 and answer.headers["x-oss-hash-crc64ecma"] == crc64(body)
    listed = client.list_parts(oss.ListPartsRequest(bucket=BUCKET, key=key, upload_id=upload_id))
    done = client.complete_multipart_upload(oss.CompleteMultipartUploadRequest(
        bucket=BUCKET, key=key, upload_id=upload_id, complete_multipart_upload=oss.CompleteMultipartUpload(
            parts=[oss.UploadPart(part_number=p.part_number, etag=p.etag) for p in listed.parts])))
    assert done.status_code == 200 and done.hash_crc64 == crc64(b"".join(parts))
    got = client.get_object(oss.GetObjectRequest(bucket=BUCKET, key=key))
    assert got.body.read() == b"".join(parts) and got.content_type == "image/png"


def test_ranges_with_standard_range_behavior(server):
    # x-oss-range-behavior: standard (RFC 7233): an end past the object is cut to its end; a start past it is 416
    client = make_client(server)
    data = bytes(range(100))
    put(client, "sdk/v2/ranges.bin", data)

    def get(header):
        return client.get_object(oss.GetObjectRequest(bucket=BUCKET, key="sdk/v2/ranges.bin", range_header=header,
                                                      range_behavior="standard"))

    got = get("bytes=90-199")
    assert (got.status_code, got.content_range, got.body.read()) == (206, "bytes 90-99/100", data[90:])
    with pytest.raises(oss.exceptions.OperationError) as caught:
        get("bytes=100-199")
    assert_refused(caught, "InvalidRange", 416)


def test_bucket_settings(server):
    # a bucket started without --bucket-config: private, every origin allowed, incomplete uploads aborted after 1 day
    client = make_client(server)
    info = client.get_bucket_info(oss.GetBucketInfoRequest(bucket=BUCKET)).bucket_info
    assert (info.name, info.location, info.acl) == (BUCKET, "oss-" + REGION, "private")
    assert info.extranet_endpoint == "oss-%s.aliyuncs.com" % REGION
    assert client.get_bucket_location(oss.GetBucketLocationRequest(bucket=BUCKET)).location == "oss-" + REGION
    assert client.get_bucket_acl(oss.GetBucketAclRequest(bucket=BUCKET)).acl == "private"
    rules = client.get_bucket_cors(oss.GetBucketCorsRequest(bucket=BUCKET)).cors_configuration.cors_rules
    assert [rule.allowed_origins for rule in rules] == [["*"]]
    lifecycle = client.get_bucket_lifecycle(oss.GetBucketLifecycleRequest(bucket=BUCKET)).lifecycle_configuration
    assert [rule.abort_multipart_upload.days for rule in lifecycle.rules] == [1]
    with pytest.raises(oss.exceptions.OperationError) as caught:
        client.get_bucket_info(oss.GetBucketInfoRequest(bucket="another-bucket"))
    assert_refused(caught, "NoSuchBucket", 404)


def test_downloader_copier_and_batch_delete(server, tmp_path):
    client = make_client(server)
    data = random_file(tmp_path / "src.bin", 3 * PART + 500)
    put(client, "sdk/v2/tools/src.bin", data, content_type="application/octet-stream")

    downloaded = client.downloader(part_size=PART, parallel_num=2).download_file(  # ranged GETs, CRC-64 checked
        oss.GetObjectRequest(bucket=BUCKET, key="sdk/v2/tools/src.bin"), str(tmp_path / "down.bin"))
    assert downloaded.written == len(data) and (tmp_path / "down.bin").read_bytes() == data

    # within one bucket the copier's "shallow copy" is one CopyObject (UploadPartCopy only with disable_shallow_copy)
    client.copier(part_size=PART, multipart_copy_threshold=PART).copy(oss.CopyObjectRequest(
        bucket=BUCKET, key="sdk/v2/tools/copy.bin", source_bucket=BUCKET, source_key="sdk/v2/tools/src.bin"))
    got = client.get_object(oss.GetObjectRequest(bucket=BUCKET, key="sdk/v2/tools/copy.bin"))
    assert got.body.read() == data and got.hash_crc64 == crc64(data)

    keys = ["sdk/v2/tools/src.bin", "sdk/v2/tools/copy.bin", "sdk/v2/tools/ä b+c"]
    result = client.delete_multiple_objects(oss.DeleteMultipleObjectsRequest(
        bucket=BUCKET, objects=[oss.DeleteObject(key=key) for key in keys]))
    assert result.status_code == 200 and sorted(o.key for o in result.deleted_objects) == sorted(keys)
    for key in keys:
        assert_absent(client, key)
