"""ossclient: the real oss2 against `python -m local.oss` (STS credential), and every failure as a contract code."""

import socket
import threading
import time
from datetime import datetime, timezone

import oss2
import pytest

from conftest import make_config
from formpost import http
from ossgate import multipart, ossclient
from ossgate.credentials import Credentials
from ossgate.errors import OssgateError
from sdk_harness import BUCKET, REGION, local_oss

KEY = "uploads/u1/default/2026/11/29/%s-5.bin" % ("a" * 32)


@pytest.fixture(scope="module")
def oss(tmp_path_factory):
    with local_oss(tmp_path_factory.mktemp("ossclient"), with_token=True) as process:
        yield process


def client_for(oss, **overrides):
    config = make_config(OSS_BUCKET=BUCKET, OSS_REGION=REGION, OSS_ENDPOINT=oss.endpoint,
                         OSS_UPLOAD_HOST="%s/%s" % (oss.endpoint, BUCKET))
    credentials = Credentials(overrides.get("access_key_id", oss.access_key_id),
                              overrides.get("access_key_secret", oss.access_key_secret), oss.security_token)
    return config, credentials, ossclient.OssClient(config, credentials)


def put_parts(config, credentials, key, upload_id, count, size=10):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    for part in multipart.part_urls(config, credentials, key, upload_id, range(1, count + 1), now, 600):
        status, _, body = http("PUT", part["url"], b"p" * size, part["headers"])
        assert status == 200, body


def code_of(call):
    with pytest.raises(OssgateError) as raised:
        call()
    return raised.value.code


def test_parts_are_listed_page_by_page(oss):
    config, credentials, client = client_for(oss)
    key = KEY.replace("a-5", "b-5")
    upload_id = client.initiate_multipart(key, "text/plain")
    assert client.list_parts_page(key, upload_id) == ([], None)
    put_parts(config, credentials, key, upload_id, 5)
    pages, after = [], 0
    while after is not None:
        parts, after = client.list_parts_page(key, upload_id, after, max_parts=2)
        pages.append([n for n, size, _ in parts])
        assert all(size == 10 for _, size, _ in parts)
    assert pages == [[1, 2], [3, 4], [5]]
    assert [n for n, _, _ in multipart.all_parts(client, key, upload_id)] == [1, 2, 3, 4, 5]
    # OSS itself refuses small parts: EntityTooSmall is the client's 400
    assert code_of(lambda: client.complete_multipart(key, upload_id, [(n, e) for n, _, e in
                                                                      multipart.all_parts(client, key, upload_id)])) \
        == "bad_request"
    client.abort_multipart(key, upload_id)
    assert code_of(lambda: client.list_parts_page(key, upload_id)) == "no_such_upload"
    assert code_of(lambda: client.abort_multipart(key, upload_id)) == "no_such_upload"


def test_one_part_completes_and_a_second_upload_to_the_key_is_409(oss):
    config, credentials, client = client_for(oss)
    key = KEY.replace("a-5", "c-5")
    upload_id = client.initiate_multipart(key, "text/plain")
    put_parts(config, credentials, key, upload_id, 1, size=5)
    parts = multipart.all_parts(client, key, upload_id)
    etag, body = client.complete_multipart(key, upload_id, [(n, e) for n, _, e in parts])
    assert etag.endswith("-1") and b"CompleteMultipartUploadResult" in body
    assert code_of(lambda: client.initiate_multipart(key, "text/plain")) == "already_exists"


def test_complete_refuses_to_overwrite(oss):
    config, credentials, client = client_for(oss)
    key = KEY.replace("a-5", "d-5")
    first, second = client.initiate_multipart(key, "text/plain"), client.initiate_multipart(key, "text/plain")
    for upload_id in (first, second):
        put_parts(config, credentials, key, upload_id, 1, size=5)
    client.complete_multipart(key, first, [(n, e) for n, _, e in multipart.all_parts(client, key, first)])
    parts = [(n, e) for n, _, e in multipart.all_parts(client, key, second)]
    with pytest.raises(ossclient.OssCallError) as raised:
        client.complete_multipart(key, second, parts)
    assert (raised.value.code, raised.value.oss_code) == ("already_exists", "FileAlreadyExists")
    assert raised.value.request_id


def test_a_wrong_credential_is_a_502_naming_osss_code(oss):
    _, _, client = client_for(oss, access_key_secret="not-the-secret")
    with pytest.raises(ossclient.OssCallError) as raised:
        client.initiate_multipart(KEY, "text/plain")
    assert raised.value.code == "upstream_error" and raised.value.status == 502
    assert raised.value.oss_code == "SignatureDoesNotMatch" and "SignatureDoesNotMatch" in raised.value.message
    assert "not-the-secret" not in raised.value.message


def test_timeouts_are_short():
    assert ossclient.TIMEOUT[0] <= 3 and ossclient.TIMEOUT[1] <= 5
    assert ossclient.COMPLETE_TIMEOUT[0] <= 3 and ossclient.COMPLETE_TIMEOUT[1] <= 30


def test_an_unreachable_endpoint_is_502(oss):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    config = make_config(OSS_BUCKET=BUCKET, OSS_REGION=REGION, OSS_ENDPOINT="http://127.0.0.1:%d" % closed_port)
    client = ossclient.OssClient(config, Credentials("AK", "SK", "T"))
    assert code_of(lambda: client.abort_multipart(KEY, "X")) == "upstream_error"


def test_a_silent_endpoint_times_out_as_502(monkeypatch):
    monkeypatch.setattr(ossclient, "TIMEOUT", (1.0, 0.5))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True)
    thread.start()
    try:
        config = make_config(OSS_BUCKET=BUCKET, OSS_REGION=REGION,
                             OSS_ENDPOINT="http://127.0.0.1:%d" % listener.getsockname()[1])
        client = ossclient.OssClient(config, Credentials("AK", "SK", "T"))
        started = time.monotonic()
        assert code_of(lambda: client.list_parts_page(KEY, "X")) == "upstream_error"
        assert time.monotonic() - started < 5
    finally:
        for connection, _ in accepted:
            connection.close()
        listener.close()


def test_translate_never_lets_an_unknown_failure_through():
    assert ossclient.translate(ValueError("bad XML"), "list the parts").code == "upstream_error"
    error = oss2.exceptions.ServerError(500, {"x-oss-request-id": "RID"}, b"", {"Code": "InternalError"})
    translated = ossclient.translate(error, "list the parts")
    assert (translated.code, translated.oss_code, translated.request_id) == ("upstream_error", "InternalError", "RID")
