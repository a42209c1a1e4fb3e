"""Callbacks are signed by the local OSS's code (the `cryptography` package) and verified by the function
(pycryptodome): two implementations of MD5withRSA that must agree."""

import base64
import json

import pytest

from conftest import make_config
from local import callback as local_callback
from ossgate import callbacks
from ossgate.errors import OssgateError
from ossgate.httpio import Request

KEY = local_callback.load_or_create_key()
OTHER_KEY = local_callback.load_or_create_key()


def pem(key):
    from cryptography.hazmat.primitives import serialization
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


CALLBACK_URL = "https://api.example.com/v1/oss-callback"
BODY = json.dumps({"bucket": "demo-bucket", "object": "uploads/u1/default/2026/11/29/a.png", "etag": "ABC",
                   "size": 10, "mimeType": "image/png", "height": 20, "width": 30}).encode()
KEY_URL = base64.b64encode(b"https://gosspublic.alicdn.com/callback_pub_key_v1.pem").decode()


class CountingFetch:
    def __init__(self, key_pem=None):
        self.urls = []
        self.key_pem = key_pem or pem(KEY)

    def __call__(self, url):
        self.urls.append(url)
        return self.key_pem


def request(body=BODY, path="/v1/oss-callback", key=KEY, key_url=KEY_URL, signature=None):
    signature = signature or local_callback.sign(key, path, "", body)
    headers = {"authorization": signature, "x-oss-pub-key-url": key_url, "content-type": "application/json"}
    return Request("POST", path.rstrip("/"), headers, {}, body, "r1", "1.2.3.4", path)


def verify(req, pinned=None, fetch=None):
    cfg = make_config(CALLBACK_URL=CALLBACK_URL, OSS_CALLBACK_PUBLIC_KEY=pinned)
    cache = callbacks.PublicKeyCache(fetch or CountingFetch())
    callbacks.verify(req, cfg, cache)
    return callbacks.answer(req.body, cfg)


def test_verified_callback_answers_the_contract_fields():
    fetch = CountingFetch()
    assert verify(request(), fetch=fetch) == {"key": "uploads/u1/default/2026/11/29/a.png", "size": 10,
                                              "etag": "ABC", "mimeType": "image/png", "width": 30, "height": 20}
    assert fetch.urls == ["https://gosspublic.alicdn.com/callback_pub_key_v1.pem"]


def test_the_fetched_key_is_cached_per_instance():
    cfg = make_config(CALLBACK_URL=CALLBACK_URL)
    fetch = CountingFetch()
    cache = callbacks.PublicKeyCache(fetch)
    for _ in range(5):
        callbacks.verify(request(), cfg, cache)
    assert len(fetch.urls) == 1


def test_pinned_key_needs_no_fetch():
    fetch = CountingFetch()
    verify(request(key_url="not even base64"), pinned=pem(KEY), fetch=fetch)
    assert fetch.urls == []


def flipped(signature_b64, bit):
    raw = bytearray(base64.b64decode(signature_b64))
    raw[bit // 8] ^= 1 << (bit % 8)
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize("bit", [0, 7, 500, 2047])
def test_bit_flipped_signature_is_refused(bit):
    good = local_callback.sign(KEY, "/v1/oss-callback", "", BODY)
    with pytest.raises(OssgateError) as raised:
        verify(request(signature=flipped(good, bit)), pinned=pem(KEY))
    assert (raised.value.status, raised.value.code) == (403, "invalid_callback_signature")


def test_altered_body_and_wrong_path_are_refused():
    good = local_callback.sign(KEY, "/v1/oss-callback", "", BODY)
    with pytest.raises(OssgateError):
        verify(request(body=BODY.replace(b'"size": 10', b'"size": 99'), signature=good), pinned=pem(KEY))
    with pytest.raises(OssgateError):
        verify(request(path="/v1/other", signature=good), pinned=pem(KEY))


def test_signature_by_another_key_is_refused():
    with pytest.raises(OssgateError):
        verify(request(key=OTHER_KEY), pinned=pem(KEY))


@pytest.mark.parametrize("url", [
    "https://gosspublic.alicdn.com.evil.example/key.pem", "https://gosspublicXalicdn.com/key.pem",
    "https://evil.example/https://gosspublic.alicdn.com/", "http://gosspublic.alicdn.com@evil.example/k.pem",
    "ftp://gosspublic.alicdn.com/key.pem", "https://GOSSPUBLIC.alicdn.com/key.pem", "file:///etc/passwd",
    "https://gosspublic.alicdn.com\\@evil.example/"])
def test_foreign_key_urls_are_refused_without_any_fetch(url):
    fetch = CountingFetch(pem(OTHER_KEY))
    req = request(key=OTHER_KEY, key_url=base64.b64encode(url.encode()).decode())
    with pytest.raises(OssgateError) as raised:
        verify(req, fetch=fetch)
    assert raised.value.code == "invalid_callback_signature"
    assert fetch.urls == []


def test_missing_or_garbled_headers_are_refused_without_fetch():
    fetch = CountingFetch()
    for req in (Request("POST", "/v1/oss-callback", {}, {}, BODY, "r", "", "/v1/oss-callback"),
                request(signature="%%%"), request(key_url="%%%")):
        with pytest.raises(OssgateError):
            verify(req, fetch=fetch)
    assert fetch.urls == []


def test_failed_fetch_is_a_403():
    def broken(url):
        raise OSError("unreachable")
    with pytest.raises(OssgateError) as raised:
        verify(request(), fetch=broken)
    assert raised.value.status == 403


def test_callback_field_is_what_the_local_oss_parses():
    spec = local_callback.parse_spec(callbacks.callback_field(CALLBACK_URL))
    assert spec["callbackUrl"] == CALLBACK_URL and spec["callbackBodyType"] == "application/json"
    meta = {"etag": "E", "size": 33, "contentType": "image/png"}
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (640).to_bytes(4, "big") + (480).to_bytes(4, "big")
    rendered = json.loads(local_callback.render_body(spec, "demo-bucket", "uploads/x/a.png", meta, png, {}))
    assert rendered == {"bucket": "demo-bucket", "object": "uploads/x/a.png", "etag": "E", "size": 33,
                        "mimeType": "image/png", "height": 480, "width": 640}
    assert callbacks.answer(json.dumps(rendered).encode(), make_config())["width"] == 640


@pytest.mark.parametrize("body", [b"nope", b"[]", json.dumps({"bucket": "other", "object": "uploads/x"}).encode(),
                                  json.dumps({"bucket": "demo-bucket", "object": "elsewhere/x"}).encode()])
def test_answer_refuses_foreign_bodies(body):
    with pytest.raises(OssgateError) as raised:
        callbacks.answer(body, make_config())
    assert raised.value.status == 400


def test_query_of_the_callback_url_is_part_of_the_message():
    url = CALLBACK_URL + "?tenant=a"
    cfg = make_config(CALLBACK_URL=url, OSS_CALLBACK_PUBLIC_KEY=pem(KEY))
    signature = local_callback.sign(KEY, "/v1/oss-callback", "?tenant=a", BODY)
    callbacks.verify(request(signature=signature), cfg, callbacks.PublicKeyCache(CountingFetch()))
    with pytest.raises(OssgateError):
        callbacks.verify(request(), cfg, callbacks.PublicKeyCache(CountingFetch()))
