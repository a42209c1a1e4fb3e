"""The four multipart routes through App.handle, with oss2's Bucket calls stubbed by pytest-mock (and counted)."""

import base64
import io
import json
import time
from datetime import datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import oss2
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, FIXED_NOW, SECURITY_TOKEN, base_env, http_event, response_json
from ossgate import callbacks, config, keys, multipart, sessions
from ossgate.app import App
from ossgate.credentials import Credentials
from ossgate.log import JsonLogger

MIB = 1024 * 1024
PROFILES = json.dumps({"default": {"maxSize": 1024 * MIB}, "video": {"maxSize": 50 * MIB, "contentTypes": ["video/*"]}})
RANDOM_ID = "0123456789abcdef" * 2
UPLOAD_ID = "0004B9894A22E5B1888A1E29F8236E2F"
OWN_KEY = "uploads/anonymous/default/2026/11/29/%s-%d.bin" % (RANDOM_ID, 3 * MIB)
SECRET = "s" * 40


def make_app(**overrides):
    env = base_env(**dict({"UPLOAD_PROFILES": PROFILES}, **overrides))
    return App(lambda: config.from_environ(env),
               credentials_provider=lambda cfg, ctx: Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET, SECURITY_TOKEN),
               clock=lambda: FIXED_NOW, random_id=lambda: RANDOM_ID, logger=JsonLogger(io.StringIO()))


def call(app, path, body, headers=None):
    response = app.handle(http_event(path=path, body=body, headers=headers))
    return response["statusCode"], response_json(response)


def oss_error(klass, status, code):
    return klass(status, {"x-oss-request-id": "5C3D9175B6FC201293AD****"}, b"", {"Code": code, "Message": code})


def page(parts, truncated=False, next_marker=""):
    return SimpleNamespace(parts=[oss2.models.PartInfo(n, "ETAG%d" % n, size=s) for n, s in parts],
                           is_truncated=truncated, next_marker=next_marker)


@pytest.fixture
def oss(mocker):
    """Spies on every oss2.Bucket request the routes may make; each answers like OSS unless a test says otherwise."""
    completed = SimpleNamespace(etag="D41D8CD98F00B204E9800998ECF8427E-3", status=200, request_id="RID",
                                resp=SimpleNamespace(read=lambda: b""))
    bucket_class = oss2.Bucket
    spies = dict(
        init=mocker.patch.object(bucket_class, "init_multipart_upload",
                                 return_value=SimpleNamespace(upload_id=UPLOAD_ID)),
        list=mocker.patch.object(bucket_class, "list_parts", return_value=page([(1, MIB), (2, MIB), (3, MIB)])),
        complete=mocker.patch.object(bucket_class, "complete_multipart_upload", return_value=completed),
        abort=mocker.patch.object(bucket_class, "abort_multipart_upload", return_value=None),
        head=mocker.patch.object(bucket_class, "head_object", side_effect=oss2.exceptions.NotFound(404, {}, b"", {})),
    )
    return SimpleNamespace(bucket=mocker.spy(oss2, "Bucket"), **spies)


def requests_made(oss):
    return {name: getattr(oss, name).call_count for name in ("init", "list", "complete", "abort")}


NONE = {"init": 0, "list": 0, "complete": 0, "abort": 0}


# --- initiate -------------------------------------------------------------------------------------------------

def test_initiate_answers_the_contract_with_one_oss_request(oss):
    status, body = call(make_app(), "/v1/multipart/uploads",
                        {"size": 250 * MIB + 1, "contentType": "video/mp4", "filename": "Clip.MP4"})
    assert status == 200
    assert set(body) == {"key", "uploadId", "partSize", "partCount", "maxSize", "expiresAt", "parts"}
    assert body["key"] == "uploads/anonymous/default/2026/11/29/%s-%d.mp4" % (RANDOM_ID, 250 * MIB + 1)
    assert body["uploadId"] == UPLOAD_ID
    assert (body["partSize"], body["partCount"], body["maxSize"]) == (MIB, 251, 1024 * MIB)
    assert body["expiresAt"] == "2026-11-29T23:20:00Z"
    assert [p["partNumber"] for p in body["parts"]] == list(range(1, 101))
    assert requests_made(oss) == dict(NONE, init=1)
    args, kwargs = oss.init.call_args
    assert args == (body["key"],)
    name = body["key"].rsplit("/", 1)[1]
    disposition = "attachment; filename=\"%s\"; filename*=UTF-8''%s" % (name, name)
    assert kwargs["headers"] == {"Content-Type": "video/mp4", "x-oss-forbid-overwrite": "true",
                                 "Content-Disposition": disposition}
    # the SDK is pointed at OSS_ENDPOINT and OSS_REGION, signing V4 with the STS token
    (auth, endpoint, bucket_name), bucket_kwargs = oss.bucket.call_args
    assert (endpoint, bucket_name, bucket_kwargs["region"]) == ("https://oss-cn-hangzhou.aliyuncs.com", "demo-bucket",
                                                               "cn-hangzhou")
    assert isinstance(auth, oss2.ProviderAuthV4)
    assert auth.credentials_provider.get_credentials().get_security_token() == SECURITY_TOKEN
    assert bucket_kwargs["connect_timeout"][0] <= 5


def test_part_urls_are_presigned_upload_parts(oss):
    _, body = call(make_app(), "/v1/multipart/uploads", {"size": 3 * MIB, "contentType": "text/plain"})
    assert body["partCount"] == 3 and len(body["parts"]) == 3
    for part in body["parts"]:
        assert part["method"] == "PUT" and part["headers"] == {"Content-Type": "application/octet-stream"}
        url = urlsplit(part["url"])
        assert "%s://%s%s" % (url.scheme, url.netloc, url.path) == \
            "https://demo-bucket.oss-cn-hangzhou.aliyuncs.com/" + body["key"]
        query = parse_qs(url.query)
        assert query["partNumber"] == [str(part["partNumber"])] and query["uploadId"] == [UPLOAD_ID]
        assert query["x-oss-signature-version"] == ["OSS4-HMAC-SHA256"]
        assert query["x-oss-expires"] == ["600"] and query["x-oss-security-token"] == [SECURITY_TOKEN]
        assert ACCESS_KEY_SECRET not in part["url"]


class _FrozenDatetime(datetime):
    @classmethod
    def utcnow(cls):
        return FIXED_NOW.replace(tzinfo=None)


def test_part_url_signature_equals_the_official_sdks(monkeypatch):
    """oss2's own V4 query signing of the same UploadPart request is the known answer."""
    monkeypatch.setattr(oss2.auth, "datetime", _FrozenDatetime)
    creds = Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET, SECURITY_TOKEN)
    cfg = config.from_environ(base_env())
    key = "uploads/u 1/default/2026/11/29/%s-5.tar.gz" % RANDOM_ID
    ours = multipart.part_urls(cfg, creds, key, "UP+ID/1=", [7], FIXED_NOW, 600)[0]
    auth = oss2.ProviderAuthV4(oss2.credentials.StaticCredentialsProvider(
        ACCESS_KEY_ID, ACCESS_KEY_SECRET, SECURITY_TOKEN))
    bucket = oss2.Bucket(auth, "https://oss-cn-hangzhou.aliyuncs.com", "demo-bucket", region="cn-hangzhou")
    theirs = bucket.sign_url("PUT", key, 600, headers={"Content-Type": "application/octet-stream"},
                             params={"partNumber": "7", "uploadId": "UP+ID/1="}, slash_safe=True)
    assert parse_qs(urlsplit(ours["url"]).query) == parse_qs(urlsplit(theirs).query)
    assert urlsplit(ours["url"]).path == urlsplit(theirs).path


@pytest.mark.parametrize("size, suggested, expected", [
    (1, None, (MIB, 1)),
    (10 * MIB, None, (MIB, 10)),
    (10 * MIB, 50, (100 * 1024, 103)),                     # at least 100 KiB
    (10 * MIB, 4 * MIB, (4 * MIB, 3)),                     # a suggestion inside the limits is kept
    (5 * 1024 ** 3, None, (MIB, 5120)),
    (5 * 1024 ** 3, 100 * 1024, (536871, 10000)),          # raised so that at most 10,000 parts are needed
    (5 * 1024 ** 3, 10 * 1024 ** 3, (5 * 1024 ** 3, 1)),   # at most 5 GiB
])
def test_part_plan(size, suggested, expected):
    part_size, count = multipart.part_plan(size, suggested)
    assert (part_size, count) == expected
    assert count <= 10000 and (count - 1) * part_size < size <= count * part_size


def test_suggested_part_size_is_answered_back_clamped(oss):
    _, body = call(make_app(), "/v1/multipart/uploads", {"size": 3 * MIB, "partSize": 1000})
    assert (body["partSize"], body["partCount"]) == (100 * 1024, 31)


@pytest.mark.parametrize("body, status, code", [
    ({"size": 0}, 400, "bad_request"),
    ({"size": "5"}, 400, "bad_request"),
    ({"size": 5, "partSize": "big"}, 400, "bad_request"),
    ({"size": 5, "partSize": 0}, 400, "bad_request"),
    ({"size": 5, "parts": []}, 400, "bad_request"),
    ({"size": 5, "profile": "nope"}, 404, "unknown_profile"),
    ({"size": 1024 * MIB + 1}, 413, "file_too_large"),
    ({"size": 5, "profile": "video", "contentType": "image/png"}, 415, "unsupported_type"),
    ({"size": 5, "profile": "video"}, 415, "unsupported_type"),
])
def test_refused_initiate_makes_no_oss_request(oss, body, status, code):
    answer = call(make_app(), "/v1/multipart/uploads", body)
    assert answer[0] == status and answer[1]["error"]["code"] == code
    assert requests_made(oss) == NONE and oss.bucket.call_count == 0


def test_wechat_mode_needs_a_session_and_keys_are_per_user(oss):
    app = make_app(AUTH_MODE="wechat", WECHAT_APPID="wx1", WECHAT_SECRET="x", SESSION_SECRETS=SECRET)
    for path, body in [("/v1/multipart/uploads", {"size": 5}), ("/v1/multipart/complete", {"key": OWN_KEY,
                                                                                           "uploadId": UPLOAD_ID})]:
        status, answer = call(app, path, body)
        assert (status, answer["error"]["code"]) == (401, "unauthorized")
    token = sessions.issue(app.config, "openid-alice", int(FIXED_NOW.timestamp()))
    status, answer = call(app, "/v1/multipart/uploads", {"size": 5},
                          headers={"Authorization": "Bearer " + token["token"]})
    assert status == 200
    assert answer["key"].startswith("uploads/%s/default/" % token["userId"]) and "openid" not in answer["key"]
    assert requests_made(oss) == dict(NONE, init=1)


def test_initiate_oss_failures_map_to_contract_codes(oss):
    oss.init.side_effect = oss2.exceptions.RequestError(ConnectionError("refused"))
    status, body = call(make_app(), "/v1/multipart/uploads", {"size": 5})
    assert (status, body["error"]["code"]) == (502, "upstream_error")
    oss.init.side_effect = oss_error(oss2.exceptions.ServerError, 403, "AccessDenied")
    status, body = call(make_app(), "/v1/multipart/uploads", {"size": 5})
    assert (status, body["error"]["code"]) == (502, "upstream_error")
    assert "AccessDenied" in body["error"]["message"] and "5C3D9175B6FC201293AD****" in body["error"]["message"]


# --- keys: the declared size rides in the key ---------------------------------------------------------------

@pytest.mark.parametrize("key, expected", [
    (OWN_KEY, ("default", 3 * MIB)),
    ("uploads/anonymous/video/2026/11/29/%s-1" % RANDOM_ID, ("video", 1)),
    ("uploads/anonymous/default/2026/11/29/%s.bin" % RANDOM_ID, None),            # a form upload's key
    ("uploads/anonymous/default/2026/11/29/%s-0.bin" % RANDOM_ID, None),
    ("uploads/anonymous/default/2026/11/29/%s-01.bin" % RANDOM_ID, None),
    ("uploads/anonymous/default/2026/11/29/x/%s-5.bin" % RANDOM_ID, None),
    ("uploads/anonymous/../2026/11/29/%s-5.bin" % RANDOM_ID, None),
    ("uploads/other/default/2026/11/29/%s-5.bin" % RANDOM_ID, None),
    ("uploads/anonymousx/default/2026/11/29/%s-5.bin" % RANDOM_ID, None),
])
def test_multipart_key_parts(key, expected):
    assert keys.multipart_key_parts("uploads/", "anonymous", key) == expected


# --- parts --------------------------------------------------------------------------------------------------

def test_parts_without_listing_make_no_oss_request(oss):
    status, body = call(make_app(), "/v1/multipart/parts", {"key": OWN_KEY, "uploadId": UPLOAD_ID,
                                                            "partNumbers": [3, 1]})
    assert status == 200 and set(body) == {"parts", "expiresAt"}
    assert [p["partNumber"] for p in body["parts"]] == [3, 1]
    assert parse_qs(urlsplit(body["parts"][0]["url"]).query)["partNumber"] == ["3"]
    assert requests_made(oss) == NONE


def test_parts_with_listing_make_one_oss_request(oss):
    oss.list.return_value = page([(1, MIB), (2, 77)])
    status, body = call(make_app(), "/v1/multipart/parts", {"key": OWN_KEY, "uploadId": UPLOAD_ID,
                                                            "partNumbers": [3], "listUploaded": True})
    assert status == 200
    assert body["uploaded"] == [{"partNumber": 1, "size": MIB, "etag": "ETAG1"},
                                {"partNumber": 2, "size": 77, "etag": "ETAG2"}]
    assert "nextUploadedAfter" not in body
    assert requests_made(oss) == dict(NONE, list=1)
    assert oss.list.call_args.args == (OWN_KEY, UPLOAD_ID)
    assert oss.list.call_args.kwargs["max_parts"] == 1000


def test_parts_up_to_the_last_possible_part_are_signed(oss):
    assert multipart.last_possible_part(3 * MIB) == 31 and multipart.last_possible_part(1) == 1
    assert multipart.last_possible_part(5 * 1024 ** 3) == 10000
    status, body = call(make_app(), "/v1/multipart/parts", {"key": OWN_KEY, "uploadId": UPLOAD_ID,
                                                            "partNumbers": [30, 31]})
    assert status == 200 and [p["partNumber"] for p in body["parts"]] == [30, 31]
    status, body = call(make_app(), "/v1/multipart/parts", {"key": OWN_KEY, "uploadId": UPLOAD_ID,
                                                            "partNumbers": [1, 32]})
    assert status == 400
    assert body["error"]["message"] == "part 32 is beyond the last part a file of 3145728 bytes can have (31)"


def test_parts_listing_pages_past_1000(oss):
    oss.list.return_value = page([(n, MIB) for n in range(1001, 2001)], truncated=True, next_marker="2000")
    _, body = call(make_app(), "/v1/multipart/parts", {"key": OWN_KEY, "uploadId": UPLOAD_ID, "partNumbers": [],
                                                       "listUploaded": True, "uploadedAfter": 1000})
    assert oss.list.call_args.kwargs["marker"] == "1000"
    assert body["nextUploadedAfter"] == 2000 and len(body["uploaded"]) == 1000


@pytest.mark.parametrize("extra, status, code", [
    ({"partNumbers": list(range(1, 102))}, 400, "bad_request"),
    ({"partNumbers": [0]}, 400, "bad_request"),
    ({"partNumbers": [10001]}, 400, "bad_request"),
    ({"partNumbers": [32]}, 400, "bad_request"),          # 3 MiB declared: at most 31 parts of 100 KiB
    ({"partNumbers": [True]}, 400, "bad_request"),
    ({"partNumbers": [2, 2]}, 400, "bad_request"),
    ({"partNumbers": "1"}, 400, "bad_request"),
    ({"listUploaded": "yes"}, 400, "bad_request"),
    ({"uploadedAfter": -1}, 400, "bad_request"),
    ({"uploadId": ""}, 400, "bad_request"),
    ({"uploadId": "a b"}, 400, "bad_request"),
    ({"key": 5}, 400, "bad_request"),
    ({"key": "uploads/someone/default/2026/11/29/%s-5.bin" % RANDOM_ID}, 403, "forbidden"),
    ({"key": "uploads/anonymous/default/2026/11/29/%s.bin" % RANDOM_ID}, 403, "forbidden"),
    ({"key": "uploads/anonymous/gone/2026/11/29/%s-5.bin" % RANDOM_ID}, 404, "unknown_profile"),
])
def test_refused_parts_requests_make_no_oss_request(oss, extra, status, code):
    body = dict({"key": OWN_KEY, "uploadId": UPLOAD_ID, "partNumbers": [1], "listUploaded": True}, **extra)
    answer = call(make_app(), "/v1/multipart/parts", body)
    assert (answer[0], answer[1]["error"]["code"]) == (status, code)
    assert requests_made(oss) == NONE


def test_parts_of_a_vanished_upload_is_404(oss):
    oss.list.side_effect = oss_error(oss2.exceptions.NoSuchUpload, 404, "NoSuchUpload")
    status, body = call(make_app(), "/v1/multipart/parts", {"key": OWN_KEY, "uploadId": UPLOAD_ID,
                                                            "partNumbers": [1], "listUploaded": True})
    assert (status, body["error"]["code"]) == (404, "no_such_upload")


def test_presigning_100_part_urls_costs_well_under_a_millisecond_each():
    cfg = config.from_environ(base_env())
    creds = Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET, SECURITY_TOKEN)
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        urls = multipart.part_urls(cfg, creds, OWN_KEY, UPLOAD_ID, range(1, 101), FIXED_NOW, 600)
        best = min(best, (time.perf_counter() - started) / len(urls))
    assert len(set(u["url"] for u in urls)) == 100
    assert best < 0.0005, "%.0f µs per URL" % (best * 1e6)


# --- complete -----------------------------------------------------------------------------------------------

def test_complete_uses_osss_part_list_with_forbid_overwrite(oss):
    status, body = call(make_app(), "/v1/multipart/complete", {"key": OWN_KEY, "uploadId": UPLOAD_ID})
    assert status == 200
    assert body == {"key": OWN_KEY, "size": 3 * MIB, "etag": "D41D8CD98F00B204E9800998ECF8427E-3"}
    assert requests_made(oss) == dict(NONE, list=1, complete=1)
    args, kwargs = oss.complete.call_args
    assert args[:2] == (OWN_KEY, UPLOAD_ID)
    assert [(p.part_number, p.etag) for p in args[2]] == [(1, "ETAG1"), (2, "ETAG2"), (3, "ETAG3")]
    assert kwargs["headers"] == {"x-oss-forbid-overwrite": "true"}


def test_complete_ignores_a_client_part_list(oss):
    status, body = call(make_app(), "/v1/multipart/complete", {"key": OWN_KEY, "uploadId": UPLOAD_ID,
                                                               "parts": [{"partNumber": 1, "etag": "X"}]})
    assert (status, body["error"]["code"]) == (400, "bad_request")
    assert requests_made(oss) == NONE


def test_complete_lists_every_page(oss):
    size = 2500 * 100 * 1024
    key = "uploads/anonymous/default/2026/11/29/%s-%d" % (RANDOM_ID, size)
    oss.list.side_effect = [
        page([(n, 100 * 1024) for n in range(1, 1001)], truncated=True, next_marker="1000"),
        page([(n, 100 * 1024) for n in range(1001, 2001)], truncated=True, next_marker="2000"),
        page([(n, 100 * 1024) for n in range(2001, 2501)]),
    ]
    status, body = call(make_app(), "/v1/multipart/complete", {"key": key, "uploadId": UPLOAD_ID})
    assert status == 200 and body["size"] == size
    assert requests_made(oss) == dict(NONE, list=3, complete=1)
    assert [c.kwargs["marker"] for c in oss.list.call_args_list] == ["", "1000", "2000"]
    assert [p.part_number for p in oss.complete.call_args.args[2]] == list(range(1, 2501))


@pytest.mark.parametrize("parts", [[(1, MIB), (2, MIB), (3, MIB + 1)], [(1, 2 * MIB), (2, 2 * MIB)]])
def test_complete_above_the_declared_size_is_413_and_aborts(oss, parts):
    oss.list.return_value = page(parts)
    status, body = call(make_app(), "/v1/multipart/complete", {"key": OWN_KEY, "uploadId": UPLOAD_ID})
    assert (status, body["error"]["code"]) == (413, "file_too_large")
    assert "more than the 3145728 bytes declared" in body["error"]["message"]
    assert body["error"]["message"].endswith("; the upload was aborted")
    assert requests_made(oss) == dict(NONE, list=1, abort=1)
    assert oss.abort.call_args.args == (OWN_KEY, UPLOAD_ID)


def test_complete_above_a_lowered_profile_limit_is_413(oss):
    lowered = json.dumps({"default": {"maxSize": 2 * MIB}})
    status, body = call(make_app(UPLOAD_PROFILES=lowered), "/v1/multipart/complete",
                        {"key": OWN_KEY, "uploadId": UPLOAD_ID})
    assert (status, body["error"]["code"]) == (413, "file_too_large")
    assert body["error"]["message"] == ("the parts hold 3145728 bytes, more than profile 'default''s maxSize of "
                                        "2097152 bytes; the upload was aborted")
    assert requests_made(oss) == dict(NONE, list=1, abort=1)


def test_oversize_is_413_even_when_the_upload_is_already_gone(oss):
    oss.list.return_value = page([(1, 4 * MIB)])
    oss.abort.side_effect = oss_error(oss2.exceptions.NoSuchUpload, 404, "NoSuchUpload")
    status, _ = call(make_app(), "/v1/multipart/complete", {"key": OWN_KEY, "uploadId": UPLOAD_ID})
    assert status == 413


@pytest.mark.parametrize("parts, named", [
    ([(1, MIB), (3, MIB)], "missing parts: 2;"),
    ([], "missing parts: 1;"),
    ([(2, MIB), (3, MIB)], "missing parts: 1;"),
    ([(1, MIB), (2, MIB)], "missing parts: 3"),          # all held are 1..n, but short of the declared size
    ([(1, MIB), (2, MIB), (3, 5)], "hold 2097157 of the 3145728 bytes"),
])
def test_complete_with_missing_parts_is_400_naming_them(oss, parts, named):
    oss.list.return_value = page(parts)
    status, body = call(make_app(), "/v1/multipart/complete", {"key": OWN_KEY, "uploadId": UPLOAD_ID})
    assert (status, body["error"]["code"]) == (400, "incomplete_upload")
    assert named in body["error"]["message"]
    assert requests_made(oss) == dict(NONE, list=1)      # the upload stays: no abort, no complete


def test_many_missing_parts_are_summarised(oss):
    oss.list.return_value = page([(1, 100 * 1024), (60, 100 * 1024)])
    key = "uploads/anonymous/default/2026/11/29/%s-%d" % (RANDOM_ID, 60 * 100 * 1024)
    _, body = call(make_app(), "/v1/multipart/complete", {"key": key, "uploadId": UPLOAD_ID})
    assert "missing parts: 2, 3, 4," in body["error"]["message"] and "and 38 more" in body["error"]["message"]


def test_complete_with_callback_answers_its_data(oss):
    answer = {"key": OWN_KEY, "size": 3 * MIB, "etag": "E", "mimeType": "application/octet-stream"}
    oss.complete.return_value.resp = SimpleNamespace(read=lambda: json.dumps(answer).encode())
    app = make_app(CALLBACK_URL="https://api.example.com/v1/oss-callback", SESSION_SECRETS=SECRET)
    status, body = call(app, "/v1/multipart/complete", {"key": OWN_KEY, "uploadId": UPLOAD_ID})
    assert status == 200 and body["data"] == answer
    headers = oss.complete.call_args.kwargs["headers"]
    assert headers["x-oss-forbid-overwrite"] == "true"
    assert headers["x-oss-callback"] == callbacks.ticket_callback_field(app.config, OWN_KEY)
    # the callback body carries the MAC of bucket + key, as a form ticket's does
    spec = json.loads(base64.b64decode(headers["x-oss-callback"]))
    assert spec["callbackUrl"] == "https://api.example.com/v1/oss-callback"
    assert callbacks.object_mac(SECRET.encode(), "demo-bucket", OWN_KEY) in spec["callbackBody"]


def test_complete_whose_callback_failed_is_502_callback_failed(oss):
    oss.complete.return_value.status = 203
    app = make_app(CALLBACK_URL="https://api.example.com/v1/oss-callback", SESSION_SECRETS=SECRET)
    status, body = call(app, "/v1/multipart/complete", {"key": OWN_KEY, "uploadId": UPLOAD_ID})
    assert (status, body["error"]["code"]) == (502, "callback_failed")  # stored: not the same as OSS unreachable
    assert "stored" in body["error"]["message"]


@pytest.mark.parametrize("stored_size, status", [(3 * MIB, 200), (3 * MIB - 1, 404), (None, 404)])
def test_a_repeated_complete_finds_the_object_it_stored(oss, stored_size, status):
    """A client whose complete answer was lost retries; OSS no longer knows the uploadId, the object is there."""
    oss.list.side_effect = oss_error(oss2.exceptions.NoSuchUpload, 404, "NoSuchUpload")
    if stored_size is not None:
        oss.head.side_effect = None
        oss.head.return_value = SimpleNamespace(content_length=stored_size)
    answer = call(make_app(), "/v1/multipart/complete", {"key": OWN_KEY, "uploadId": UPLOAD_ID})
    assert answer[0] == status
    if status == 200:
        assert answer[1] == {"key": OWN_KEY, "size": 3 * MIB}
    else:
        assert answer[1]["error"]["code"] == "no_such_upload"
    assert oss.head.call_count == 1 and requests_made(oss) == dict(NONE, list=1)


@pytest.mark.parametrize("where, error, status, code", [
    ("list", oss_error(oss2.exceptions.NoSuchUpload, 404, "NoSuchUpload"), 404, "no_such_upload"),
    ("complete", oss_error(oss2.exceptions.ServerError, 409, "FileAlreadyExists"), 409, "already_exists"),
    ("complete", oss_error(oss2.exceptions.ServerError, 400, "InvalidPart"), 400, "incomplete_upload"),
    ("complete", oss_error(oss2.exceptions.ServerError, 400, "EntityTooSmall"), 400, "bad_request"),
    ("complete", oss_error(oss2.exceptions.ServerError, 503, "ServiceUnavailable"), 502, "upstream_error"),
    ("list", oss_error(oss2.exceptions.ServerError, 500, "InternalError"), 502, "upstream_error"),
    ("list", oss2.exceptions.RequestError(TimeoutError("read timed out")), 502, "upstream_error"),
    ("list", ValueError("not an XML document"), 502, "upstream_error"),
])
def test_complete_oss_errors_map_to_contract_codes(oss, where, error, status, code):
    getattr(oss, where).side_effect = error
    answer = call(make_app(), "/v1/multipart/complete", {"key": OWN_KEY, "uploadId": UPLOAD_ID})
    assert (answer[0], answer[1]["error"]["code"]) == (status, code)
    assert answer[1]["error"]["requestId"]


def test_a_listing_that_never_ends_is_502_not_a_loop(oss):
    oss.list.return_value = page([(1, MIB)], truncated=True, next_marker="1")
    status, body = call(make_app(), "/v1/multipart/complete", {"key": OWN_KEY, "uploadId": UPLOAD_ID})
    assert (status, body["error"]["code"]) == (502, "upstream_error")
    assert oss.list.call_count == 2


@pytest.mark.parametrize("route", ["/v1/multipart/complete", "/v1/multipart/abort"])
@pytest.mark.parametrize("key, status, code", [
    ("uploads/someone/default/2026/11/29/%s-5.bin" % RANDOM_ID, 403, "forbidden"),
    ("uploads/anonymous/default/2026/11/29/%s.bin" % RANDOM_ID, 403, "forbidden"),
    ("uploads/anonymous/default/2026/11/29/../../../../someone/default/2026/11/29/%s-5" % RANDOM_ID, 403,
     "forbidden"),
    ("other/anonymous/default/2026/11/29/%s-5.bin" % RANDOM_ID, 403, "forbidden"),
    ("", 400, "bad_request"),
    (None, 400, "bad_request"),
])
def test_another_users_key_is_refused_before_any_oss_request(oss, route, key, status, code):
    answer = call(make_app(), route, {"key": key, "uploadId": UPLOAD_ID})
    assert (answer[0], answer[1]["error"]["code"]) == (status, code)
    assert requests_made(oss) == NONE and oss.bucket.call_count == 0


# --- abort --------------------------------------------------------------------------------------------------

def test_abort_is_one_oss_request(oss):
    status, body = call(make_app(), "/v1/multipart/abort", {"key": OWN_KEY, "uploadId": UPLOAD_ID})
    assert (status, body) == (200, {"aborted": True})
    assert requests_made(oss) == dict(NONE, abort=1)
    assert oss.abort.call_args.args == (OWN_KEY, UPLOAD_ID)


def test_abort_of_a_vanished_upload_is_404(oss):
    oss.abort.side_effect = oss_error(oss2.exceptions.NoSuchUpload, 404, "NoSuchUpload")
    status, body = call(make_app(), "/v1/multipart/abort", {"key": OWN_KEY, "uploadId": UPLOAD_ID})
    assert (status, body["error"]["code"]) == (404, "no_such_upload")


def test_part_urls_expire_with_the_credentials(oss):
    soon = FIXED_NOW + timedelta(seconds=300)
    app = make_app()
    app._credentials_provider = lambda cfg, ctx: Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET, SECURITY_TOKEN,
                                                             expiration=soon)
    _, body = call(app, "/v1/multipart/parts", {"key": OWN_KEY, "uploadId": UPLOAD_ID, "partNumbers": [1]})
    assert body["expiresAt"] == "2026-11-29T23:14:00Z"
    assert parse_qs(urlsplit(body["parts"][0]["url"]).query)["x-oss-expires"] == ["240"]


# --- events/ ------------------------------------------------------------------------------------------------

def test_the_multipart_events_are_answered(oss):
    from conftest import ROOT

    app = make_app()
    initiate = app.handle((ROOT / "events" / "multipart-initiate.json").read_bytes())
    assert initiate["statusCode"] == 200 and response_json(initiate)["partCount"] == 100
    parts = app.handle((ROOT / "events" / "multipart-parts.json").read_bytes())
    assert parts["statusCode"] == 200, response_json(parts)
    assert [p["partNumber"] for p in response_json(parts)["parts"]] == [101, 102]
    assert requests_made(oss) == dict(NONE, init=1)


def test_admit_runs_after_the_checks_and_before_oss(oss):
    """The hook quotas charge through: a refusal there leaves no upload on OSS."""
    from ossgate.errors import OssgateError

    cfg = config.from_environ(base_env(UPLOAD_PROFILES=PROFILES))
    creds = Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET, SECURITY_TOKEN)
    seen = []

    def refuse():
        seen.append("admit")
        raise OssgateError("rate_limited", "over the limit")

    def no_oss():
        pytest.fail("OSS was asked")

    too_big = multipart.parse_initiate({"size": 2 * 1024 * MIB})[0]
    with pytest.raises(OssgateError) as raised:
        multipart.initiate(cfg, creds, "u1", too_big, None, FIXED_NOW, RANDOM_ID, no_oss, refuse)
    assert raised.value.code == "file_too_large" and seen == []
    with pytest.raises(OssgateError) as raised:
        multipart.initiate(cfg, creds, "u1", multipart.parse_initiate({"size": 5})[0], None, FIXED_NOW, RANDOM_ID,
                           no_oss, refuse)
    assert raised.value.code == "rate_limited" and seen == ["admit"]
    assert requests_made(oss) == NONE


# --- malformed input is always a 4xx -------------------------------------------------------------------------

_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                   max_size=4), max_leaves=12)
_field_values = {
    "key": st.sampled_from([OWN_KEY, OWN_KEY + "x", "uploads/anonymous/", ""]) | _json,
    "uploadId": st.sampled_from([UPLOAD_ID, "", "a" * 300]) | _json,
    "partNumbers": st.lists(st.integers(-2, 10002), max_size=120) | _json,
    "listUploaded": _json, "uploadedAfter": _json, "size": st.integers(-5, 2 ** 40) | _json,
    "partSize": st.integers(-5, 2 ** 40) | _json, "contentType": _json, "filename": _json, "profile": _json,
}
_bodies = st.dictionaries(st.sampled_from(sorted(_field_values)), st.none(), max_size=6).flatmap(
    lambda names: st.fixed_dictionaries({name: _field_values[name] for name in names}))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(["uploads", "parts", "complete", "abort"]), body=_bodies | _json)
def test_malformed_bodies_get_a_4xx_or_a_valid_answer(oss, route, body):
    status, answer = call(make_app(), "/v1/multipart/" + route, body)
    assert status < 500, answer
    if status >= 400:
        assert answer["error"]["code"] and answer["error"]["message"]
