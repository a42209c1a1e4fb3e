"""Callbacks are signed by the local OSS's code (the `cryptography` package) and verified by the function
(pycryptodome): two implementations of MD5withRSA that must agree."""

import base64
import hashlib
import hmac
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
SECRET = "k" * 32
OBJECT = "uploads/u1/default/2026/11/29/a.png"


def ticket_mac(key, bucket="demo-bucket", secret=SECRET):
    """The per-ticket MAC, computed here from its definition (docs/threat-model.md), not with our code."""
    return hmac.new(secret.encode(), b"ossgate-callback-v1\0" + bucket.encode() + b"\0" + key.encode(),
                    hashlib.sha256).hexdigest()


def callback_json(key=OBJECT, mac=None, **changes):
    data = {"bucket": "demo-bucket", "object": key, "etag": "ABC", "size": 10, "mimeType": "image/png",
            "height": 20, "width": 30, "mac": ticket_mac(key) if mac is None else mac}
    data.update(changes)
    return json.dumps({k: v for k, v in data.items() if v is not False}).encode()


BODY = callback_json()
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


def config(**overrides):
    return make_config(**dict(dict(CALLBACK_URL=CALLBACK_URL, SESSION_SECRETS=SECRET), **overrides))


def verify(req, pinned=None, fetch=None, secrets=SECRET):
    cfg = config(OSS_CALLBACK_PUBLIC_KEY=pinned, SESSION_SECRETS=secrets)
    cache = callbacks.PublicKeyCache(fetch or CountingFetch())
    callbacks.verify(req, cfg, cache)
    return callbacks.answer(req.body, cfg)


def test_verified_callback_answers_the_contract_fields():
    fetch = CountingFetch()
    assert verify(request(), fetch=fetch) == {"key": "uploads/u1/default/2026/11/29/a.png", "size": 10,
                                              "etag": "ABC", "mimeType": "image/png", "width": 30, "height": 20}
    assert fetch.urls == ["https://gosspublic.alicdn.com/callback_pub_key_v1.pem"]


def test_the_fetched_key_is_cached_per_instance():
    cfg = config()
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
    spec = local_callback.parse_spec(callbacks.ticket_callback_field(config(), "uploads/x/a.png"))
    assert spec["callbackUrl"] == CALLBACK_URL and spec["callbackBodyType"] == "application/json"
    meta = {"etag": "E", "size": 33, "contentType": "image/png"}
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (640).to_bytes(4, "big") + (480).to_bytes(4, "big")
    rendered = json.loads(local_callback.render_body(spec, "demo-bucket", "uploads/x/a.png", meta, png, {}))
    assert rendered == {"bucket": "demo-bucket", "object": "uploads/x/a.png", "etag": "E", "size": 33,
                        "mimeType": "image/png", "height": 480, "width": 640, "mac": ticket_mac("uploads/x/a.png")}
    assert callbacks.answer(json.dumps(rendered).encode(), config())["width"] == 640


@pytest.mark.parametrize("body", [b"nope", b"[]", json.dumps({"bucket": "other", "object": "uploads/x"}).encode(),
                                  json.dumps({"bucket": "demo-bucket", "object": "elsewhere/x"}).encode()])
def test_answer_refuses_foreign_bodies(body):
    with pytest.raises(OssgateError) as raised:
        callbacks.answer(body, config())
    assert raised.value.status == 400


def test_query_of_the_callback_url_is_part_of_the_message():
    url = CALLBACK_URL + "?tenant=a"
    cfg = config(CALLBACK_URL=url, OSS_CALLBACK_PUBLIC_KEY=pem(KEY))
    signature = local_callback.sign(KEY, "/v1/oss-callback", "?tenant=a", BODY)
    callbacks.verify(request(signature=signature), cfg, callbacks.PublicKeyCache(CountingFetch()))
    with pytest.raises(OssgateError):
        callbacks.verify(request(), cfg, callbacks.PublicKeyCache(CountingFetch()))


# --- the public key URL: only the documented one, over HTTPS, one cache entry, one fetch at a time ---------

DOCUMENTED_KEY_URL = "https://gosspublic.alicdn.com/callback_pub_key_v1.pem"


def encoded(url):
    return base64.b64encode(url.encode("latin-1")).decode()


@pytest.mark.parametrize("url", [
    DOCUMENTED_KEY_URL + "?r=1", DOCUMENTED_KEY_URL + "?", DOCUMENTED_KEY_URL + "#x",
    "https://gosspublic.alicdn.com/other_key.pem", "https://gosspublic.alicdn.com//callback_pub_key_v1.pem",
    "https://gosspublic.alicdn.com/./callback_pub_key_v1.pem", DOCUMENTED_KEY_URL + "/..",
    "https://gosspublic.alicdn.com/callback_pub_key_v1.pem%00",
    "https://user@gosspublic.alicdn.com/callback_pub_key_v1.pem",
    "https://gosspublic.alicdn.com:8443/callback_pub_key_v1.pem", DOCUMENTED_KEY_URL + "\r\nX: y",
    DOCUMENTED_KEY_URL + "\x00", "https://gosspublic.alicdn.com/\tcallback_pub_key_v1.pem", " " + DOCUMENTED_KEY_URL,
    "http://gosspublic.alicdn.com/callback_pub_key_v1.pem",  # plain HTTP: the key could be swapped in transit
])
def test_only_the_documented_https_key_url_is_accepted(url):
    fetch = CountingFetch()
    with pytest.raises(OssgateError) as raised:
        verify(request(key_url=encoded(url)), fetch=fetch)
    assert raised.value.code == "invalid_callback_signature"
    assert fetch.urls == []


@pytest.mark.parametrize("url", ["HTTPS://GOSSPUBLIC.ALICDN.COM/callback_pub_key_v1.pem",
                                 "https://gosspublic.alicdn.com:443/callback_pub_key_v1.pem"])
def test_spellings_of_the_documented_url_share_one_cache_entry(url):
    fetch = CountingFetch()
    cfg = config()
    cache = callbacks.PublicKeyCache(fetch)
    callbacks.verify(request(key_url=encoded(url)), cfg, cache)
    callbacks.verify(request(), cfg, cache)
    assert fetch.urls == [DOCUMENTED_KEY_URL]


def test_the_key_cache_stays_bounded_under_distinct_urls():
    """The review's attack: every `?r=N` variant was fetched and kept forever (about 4.4 KiB each)."""
    fetch = CountingFetch()
    cfg = config()
    cache = callbacks.PublicKeyCache(fetch)
    for n in range(300):
        try:
            callbacks.verify(request(key_url=encoded(DOCUMENTED_KEY_URL + "?r=%d" % n)), cfg, cache)
        except OssgateError:
            pass
    callbacks.verify(request(), cfg, cache)
    assert fetch.urls == [DOCUMENTED_KEY_URL] and len(cache) == 1


def test_a_failed_fetch_is_not_repeated_by_every_request():
    attempts = []
    now = [1000.0]

    def broken(url):
        attempts.append(url)
        raise OSError("unreachable")
    cache = callbacks.PublicKeyCache(broken, clock=lambda: now[0])
    for _ in range(50):
        with pytest.raises(OssgateError):
            cache.get(DOCUMENTED_KEY_URL)
    assert len(attempts) == 1
    now[0] += callbacks.FETCH_RETRY_SECONDS
    with pytest.raises(OssgateError):
        cache.get(DOCUMENTED_KEY_URL)
    assert len(attempts) == 2


def test_at_most_one_fetch_is_in_flight():
    import threading
    import time

    in_flight, most, calls = [0], [0], []
    lock = threading.Lock()

    def slow(url):
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
            calls.append(url)
        time.sleep(0.05)
        with lock:
            in_flight[0] -= 1
        return pem(KEY)
    cache = callbacks.PublicKeyCache(slow)
    threads = [threading.Thread(target=cache.get, args=(DOCUMENTED_KEY_URL,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1 and len(calls) == 1


def test_the_fetch_itself_refuses_plain_http():
    with pytest.raises(ValueError):
        callbacks.fetch_key("http://gosspublic.alicdn.com/callback_pub_key_v1.pem")


# --- the per-ticket MAC: OSS's signature says "from OSS", the MAC says "for an object our ticket named" --------

@pytest.mark.parametrize("body", [
    callback_json(mac=False),                                          # a callback attached by someone else
    callback_json(mac=ticket_mac("uploads/u2/default/2026/11/29/b.png")),  # our MAC, but for another object
    callback_json(mac=ticket_mac(OBJECT, bucket="other-bucket")),      # a MAC for the same key in another bucket
    callback_json(mac=ticket_mac(OBJECT, secret="x" * 32)),            # another deployment's secret
    callback_json(mac=ticket_mac(OBJECT).upper()), callback_json(mac=""), callback_json(mac=["x"]),
    callback_json(mac="\u00e9" * 64), callback_json(mac="\ud800"),
], ids=["missing", "other-object", "other-bucket", "other-secret", "uppercase", "empty", "list", "non-ascii",
        "surrogate"])
def test_a_callback_oss_signed_but_no_ticket_of_ours_pinned_is_refused(body):
    signature = local_callback.sign(KEY, "/v1/oss-callback", "", body)
    with pytest.raises(OssgateError) as raised:
        verify(request(body=body, signature=signature), pinned=pem(KEY))
    assert (raised.value.status, raised.value.code) == (403, "invalid_callback_signature")


def test_a_mac_by_an_older_secret_verifies_while_it_is_listed():
    old, new = "o" * 32, "n" * 32
    body = callback_json(mac=ticket_mac(OBJECT, secret=old))
    signature = local_callback.sign(KEY, "/v1/oss-callback", "", body)
    assert verify(request(body=body, signature=signature), pinned=pem(KEY), secrets=new + "," + old)["key"] == OBJECT
    with pytest.raises(OssgateError):
        verify(request(body=body, signature=signature), pinned=pem(KEY), secrets=new)


def test_ticket_callbacks_carry_extra_constants_without_substitution():
    field = callbacks.ticket_callback_field(config(), OBJECT, {"sealed": "abc_-"})
    spec = local_callback.parse_spec(field)
    rendered = json.loads(local_callback.render_body(spec, "demo-bucket", OBJECT,
                                                     {"etag": "E", "size": 1, "contentType": "text/plain"}, b"x", {}))
    assert rendered["sealed"] == "abc_-" and rendered["mac"] == ticket_mac(OBJECT)
    with pytest.raises(ValueError):
        callbacks.callback_body({"x": "${object}"})
