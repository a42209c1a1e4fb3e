"""Every ticket the function issues is accepted by the strict local OSS, and every tampering is refused
with OSS's own error code. The local OSS verifies with local/v4.py, not with the function's signer."""

import base64
import json
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import make_config
from formpost import encode_form, http, oss_error_code, post_form
from local import oss as local_oss
from ossgate import policy, tickets
from ossgate.credentials import Credentials

BUCKET = "demo-bucket"
AK, SK, TOKEN = "LTAIlocal", "local-secret-value", "local-sts-token"
PROFILES = json.dumps({"default": {"maxSize": 64},
                       "img": {"maxSize": 1024, "contentTypes": ["image/png"]}})


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("oss")
    oss = local_oss.LocalOss(BUCKET, "cn-hangzhou", local_oss.Identity(AK, SK, TOKEN), str(data))
    srv = local_oss.make_server(oss, port=0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % srv.server_address[1], oss
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def url(server):
    return server[0] + "/" + BUCKET


def now():
    return datetime.now(timezone.utc)


def ticket(body=None, at=None, creds=None, **config):
    cfg = make_config(UPLOAD_PROFILES=PROFILES, **config)
    request = tickets.parse_ticket_request(body or {"size": 5, "contentType": "text/plain", "filename": "a.txt"})
    return tickets.upload_ticket(cfg, creds or Credentials(AK, SK, TOKEN), "u1", request, at or now(),
                                 uuid.uuid4().hex)


def test_ticket_is_accepted_and_stored_byte_identical(server, url):
    t = ticket()
    data = bytes(range(5))
    status, headers, body = post_form(url, t["fields"], data, file_type="text/plain")
    assert (status, body) == (200, b"")
    assert headers["ETag"].strip('"').lower() == __import__("hashlib").md5(data).hexdigest()
    meta, stored = server[1].store.get(t["key"])
    assert stored == data and meta["contentType"] == "text/plain"


def replace(fields, **changes):
    out = dict(fields)
    for name, value in changes.items():
        name = name.replace("_", "-") if name != "success_action_status" else name
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


@pytest.mark.parametrize("mutate, code, status", [
    (lambda f: replace(f, key=f["key"] + "x"), "AccessDenied", 403),
    (lambda f: replace(f, key="uploads/other-user/x.txt"), "AccessDenied", 403),
    (lambda f: dict(f, **{"Content-Type": "text/html"}), "AccessDenied", 403),
    (lambda f: replace(f, x_oss_forbid_overwrite="false"), "AccessDenied", 403),
    (lambda f: replace(f, x_oss_forbid_overwrite=None), "AccessDenied", 403),
    (lambda f: replace(f, success_action_status="201"), "AccessDenied", 403),
    (lambda f: replace(f, x_oss_signature="0" * 64), "SignatureDoesNotMatch", 403),
    (lambda f: replace(f, x_oss_signature=f["x-oss-signature"][:-1] + ("0" if f["x-oss-signature"][-1] != "0" else "1")),
     "SignatureDoesNotMatch", 403),
    (lambda f: replace(f, x_oss_credential="LTAIother/" + f["x-oss-credential"].split("/", 1)[1]),
     "InvalidAccessKeyId", 403),
    (lambda f: replace(f, x_oss_security_token=None), "InvalidSecurityToken", 403),
    (lambda f: replace(f, x_oss_security_token="forged"), "InvalidSecurityToken", 403),
    (lambda f: replace(f, x_oss_date="20200101T000000Z"), "InvalidArgument", 400),
    (lambda f: replace(f, key=None), "InvalidArgument", 400),
    (lambda f: replace(f, policy=None), "InvalidArgument", 400),
])
def test_tampered_forms_are_refused(url, mutate, code, status):
    t = ticket()
    answer_status, _, body = post_form(url, mutate(t["fields"]), b"hello", file_type="text/plain")
    assert (answer_status, oss_error_code(body)) == (status, code)


def test_tampered_policy_fails_the_signature(url):
    t = ticket()
    document = json.loads(base64.b64decode(t["fields"]["policy"]))
    document["conditions"] = [c for c in document["conditions"] if c != ["content-length-range", 1, 64]]
    forged = base64.b64encode(json.dumps(document, separators=(",", ":")).encode()).decode()
    status, _, body = post_form(url, dict(t["fields"], policy=forged), b"x" * 100, file_type="text/plain")
    assert (status, oss_error_code(body)) == (403, "SignatureDoesNotMatch")


@pytest.mark.parametrize("size, code", [(65, "EntityTooLarge"), (0, "EntityTooSmall")])
def test_size_limits(url, size, code):
    status, _, body = post_form(url, ticket()["fields"], b"z" * size, file_type="text/plain")
    assert (status, oss_error_code(body)) == (400, code)


def test_expired_ticket(url):
    t = ticket(at=now() - timedelta(minutes=11))
    status, _, body = post_form(url, t["fields"], b"hello")
    assert (status, oss_error_code(body)) == (403, "AccessDenied")
    assert b"Policy expired" in body


def test_clock_skew(url):
    status, _, body = post_form(url, ticket(at=now() + timedelta(minutes=20))["fields"], b"hello")
    assert (status, oss_error_code(body)) == (403, "RequestTimeTooSkewed")


def test_wrong_credentials_secret(url):
    t = ticket(creds=Credentials(AK, "not-the-secret", TOKEN))
    status, _, body = post_form(url, t["fields"], b"hello")
    assert (status, oss_error_code(body)) == (403, "SignatureDoesNotMatch")


def test_overwrite_is_refused(url):
    t = ticket()
    assert post_form(url, t["fields"], b"first", file_type="text/plain")[0] == 200
    status, _, body = post_form(url, t["fields"], b"again", file_type="text/plain")
    assert (status, oss_error_code(body)) == (409, "FileAlreadyExists")


def test_an_untyped_ticket_cannot_store_html(url):
    t = ticket({"size": 10, "filename": "x.html"})
    status, _, body = post_form(url, dict(t["fields"], **{"Content-Type": "text/html"}), b"<script>")
    assert (status, oss_error_code(body)) == (403, "AccessDenied")
    without = {k: v for k, v in t["fields"].items() if k != "Content-Type"}
    status, _, body = post_form(url, without, b"<script>", file_type="text/html")
    assert (status, oss_error_code(body)) == (403, "AccessDenied")


def test_type_restricted_profile(url):
    t = ticket({"size": 10, "contentType": "image/png", "profile": "img"})
    assert post_form(url, t["fields"], b"\x89PNG....", file_type="image/png")[0] == 200
    t = ticket({"size": 10, "contentType": "image/png", "profile": "img"})
    status, _, body = post_form(url, dict(t["fields"], **{"Content-Type": "image/svg+xml"}), b"<svg/>")
    assert (status, oss_error_code(body)) == (403, "AccessDenied")


def test_field_order_and_file_count(url):
    fields = ticket()["fields"]
    without_key = [(k, v) for k, v in fields.items() if k != "key"]
    body, ctype = encode_form(without_key, b"hello", extra_after_file=[("key", fields["key"])])
    status, _, answer = http("POST", url, body, {"Content-Type": ctype})
    assert (status, oss_error_code(answer)) == (400, "InvalidArgument")
    for files in (0, 2):
        body, ctype = encode_form(fields, b"hello", files=files)
        status, _, answer = http("POST", url, body, {"Content-Type": ctype})
        assert (status, oss_error_code(answer)) == (400, "IncorrectNumberOfFilesInPOSTRequest")


def test_not_multipart(url):
    status, _, body = http("POST", url, b"key=a", {"Content-Type": "application/x-www-form-urlencoded"})
    assert (status, oss_error_code(body)) == (400, "MalformedPOSTRequest")


def test_unknown_bucket(server):
    status, _, body = post_form(server[0] + "/other-bucket", ticket()["fields"], b"hello")
    assert (status, oss_error_code(body)) == (404, "NoSuchBucket")


def test_virtual_hosted_style(server):
    t = ticket()
    body, ctype = encode_form(t["fields"], b"hello", file_type="text/plain")
    status, _, answer = http("POST", server[0] + "/", body, {"Content-Type": ctype, "Host": BUCKET + ".localhost"})
    assert status == 200, answer


def signed(conditions, at=None, expire_in=600):
    moment = at or now()
    return policy.signed_form_fields(Credentials(AK, SK, TOKEN), "cn-hangzhou", moment,
                                     moment + timedelta(seconds=expire_in), conditions)


def test_policy_must_carry_the_v4_conditions(url):
    fields = signed([{"bucket": BUCKET}])
    document = json.loads(base64.b64decode(fields["policy"]))
    document["conditions"] = [c for c in document["conditions"] if "x-oss-date" not in c]
    encoded = base64.b64encode(json.dumps(document).encode()).decode()
    from ossgate import signer
    fields = dict(fields, policy=encoded, **{"x-oss-signature": signer.post_policy_signature(
        SK, fields["x-oss-date"][:8], "cn-hangzhou", encoded)})
    status, _, body = post_form(url, dict({"key": "uploads/x"}, **fields), b"hello")
    assert (status, oss_error_code(body)) == (403, "AccessDenied")


@pytest.mark.parametrize("conditions, status, code", [
    ([{"bucket": BUCKET, "key": "x"}], 400, "InvalidPolicyDocument"),
    ([["regex", "$key", ".*"]], 400, "InvalidPolicyDocument"),
    ([["in", "$content-type", ["image/png", "image/jpeg"]]], 403, "AccessDenied"),
    ([["not-in", "$cache-control", ["no-cache"]]], 403, "AccessDenied"),
    ([["starts-with", "$key", "user/eric/"]], 403, "AccessDenied"),
    ([{"bucket": "another-bucket"}], 403, "AccessDenied"),
])
def test_condition_operators_refuse(url, conditions, status, code):
    fields = dict({"key": "uploads/op-test"}, **signed(conditions))
    fields.update({"Content-Type": "text/plain", "Cache-Control": "no-cache"})
    answer, _, body = post_form(url, fields, b"hello")
    assert (answer, oss_error_code(body)) == (status, code)


def test_condition_operators_accept_and_201_answers_xml(url):
    conditions = [["in", "$content-type", ["image/png", "text/plain"]], ["not-in", "$cache-control", ["no-cache"]],
                  ["starts-with", "$key", "user/eric/"], ["eq", "$success_action_status", "201"]]
    fields = dict({"key": "user/eric/a.txt"}, **signed(conditions))
    fields.update({"Content-Type": "text/plain", "Cache-Control": "max-age=60", "success_action_status": "201"})
    status, _, body = post_form(url, fields, b"hello")
    assert status == 201 and b"<Key>user/eric/a.txt</Key>" in body


def test_seed_signature_is_accepted_inside_its_prefix_only(url):
    cfg = make_config(UPLOAD_PROFILES=PROFILES)
    seed = tickets.seed_signature(cfg, Credentials(AK, SK, TOKEN), "u9", now())
    fields = {"key": seed["dir"] + "photo.txt", "policy": seed["policy"],
              "x-oss-signature-version": seed["x_oss_signature_version"],
              "x-oss-credential": seed["x_oss_credential"], "x-oss-date": seed["x_oss_date"],
              "x-oss-signature": seed["signature"], "x-oss-security-token": seed["security_token"],
              "success_action_status": "200"}
    assert post_form(url, fields, b"hello")[0] == 200
    status, _, body = post_form(url, dict(fields, key="uploads/u8/photo.txt"), b"hello")
    assert (status, oss_error_code(body)) == (403, "AccessDenied")


def test_presigned_get_from_oss2_is_verified(server):
    import oss2
    t = ticket()
    assert post_form(server[0] + "/" + BUCKET, t["fields"], b"12345", file_type="text/plain")[0] == 200
    bucket = oss2.Bucket(oss2.ProviderAuthV4(oss2.credentials.StaticCredentialsProvider(AK, SK, TOKEN)),
                         server[0], BUCKET, region="cn-hangzhou")
    signed_url = bucket.sign_url("GET", t["key"], 60)
    assert http("GET", signed_url)[::2] == (200, b"12345")
    assert http("GET", signed_url.replace("x-oss-signature=", "x-oss-signature=0"))[0] == 403
    wrong = oss2.Bucket(oss2.ProviderAuthV4(oss2.credentials.StaticCredentialsProvider(AK, "bad", TOKEN)),
                        server[0], BUCKET, region="cn-hangzhou")
    status, _, body = http("GET", wrong.sign_url("GET", t["key"], 60))
    assert (status, oss_error_code(body)) == (403, "SignatureDoesNotMatch")
    status, _, body = http("GET", server[0] + "/" + BUCKET + "/" + t["key"])
    assert (status, oss_error_code(body)) == (403, "AccessDenied")


def test_cors_preflight(url):
    status, headers, _ = http("OPTIONS", url, None, {"Origin": "http://localhost:9000",
                                                     "Access-Control-Request-Method": "POST"})
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "http://localhost:9000"
    assert http("OPTIONS", url, None, {})[0] == 403
