"""Bucket settings of the local OSS (--bucket-config): ACL, CORS rules and lifecycle rules, read back through
oss2's own parsers exactly as a doctor tool would, and applied to anonymous and cross-origin requests."""

import json
import os
import re
import signal
import subprocess
import sys

import oss2
import pytest
import requests

from conftest import ROOT
from local.oss import BucketSettings
from localoss import AK, BUCKET, SK, TOKEN, bucket, running_oss
from test_local_oss_api import raises_oss

APP = "https://app.example.com"
CONFIG = {"acl": "public-read",
          "cors": [{"allowedOrigins": [APP, "https://*.example.org"], "allowedMethods": ["GET", "PUT"],
                    "allowedHeaders": ["content-type", "x-oss-*"], "exposeHeaders": ["ETag", "x-oss-request-id"],
                    "maxAgeSeconds": 100}]}


@pytest.fixture(scope="module")
def default_oss(tmp_path_factory):
    with running_oss(tmp_path_factory.mktemp("bucket-default")) as info:
        yield info


@pytest.fixture(scope="module")
def configured_oss(tmp_path_factory):
    with running_oss(tmp_path_factory.mktemp("bucket-config"), settings=BucketSettings.from_document(CONFIG)) as info:
        yield info


@pytest.fixture(scope="module")
def bare_oss(tmp_path_factory):
    with running_oss(tmp_path_factory.mktemp("bucket-bare"), settings=BucketSettings.from_document({})) as info:
        yield info


def test_default_settings_read_through_oss2(default_oss):
    bkt = bucket(default_oss["endpoint"])
    info = bkt.get_bucket_info()
    assert (info.name, info.location, info.acl.grant, info.storage_class) == (
        BUCKET, "oss-cn-hangzhou", "private", "Standard")
    assert info.extranet_endpoint == "oss-cn-hangzhou.aliyuncs.com" and info.owner.id
    assert bkt.get_bucket_acl().acl == "private"
    assert bkt.get_bucket_location().location == "oss-cn-hangzhou"
    rule, = bkt.get_bucket_cors().rules
    assert rule.allowed_origins == ["*"] and "DELETE" in rule.allowed_methods and "ETag" in rule.expose_headers
    lifecycle, = bkt.get_bucket_lifecycle().rules
    assert (lifecycle.prefix, lifecycle.status, lifecycle.abort_multipart_upload.days) == ("", "Enabled", 1)


def test_configured_settings_read_through_oss2(configured_oss):
    bkt = bucket(configured_oss["endpoint"])
    assert bkt.get_bucket_info().acl.grant == "public-read" and bkt.get_bucket_acl().acl == "public-read"
    rule, = bkt.get_bucket_cors().rules
    assert (rule.allowed_origins, rule.allowed_methods, rule.allowed_headers, rule.expose_headers,
            rule.max_age_seconds) == (CONFIG["cors"][0]["allowedOrigins"], ["GET", "PUT"],
                                      ["content-type", "x-oss-*"], ["ETag", "x-oss-request-id"], 100)
    raises_oss(bkt.get_bucket_lifecycle, oss2.exceptions.NoSuchLifecycle, 404, "NoSuchLifecycle")


def test_no_cors_configuration(bare_oss):
    bkt = bucket(bare_oss["endpoint"])
    raises_oss(bkt.get_bucket_cors, oss2.exceptions.NoSuchCors, 404, "NoSuchCORSConfiguration")
    answer = requests.options(bare_oss["endpoint"] + "/" + BUCKET + "/k", headers={
        "Origin": APP, "Access-Control-Request-Method": "PUT"})
    assert answer.status_code == 403 and b"<Code>AccessForbidden</Code>" in answer.content
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_bucket_settings_are_the_owners(configured_oss):
    anonymous = oss2.Bucket(oss2.AnonymousAuth(), configured_oss["endpoint"], BUCKET, region="cn-hangzhou")
    for call in (anonymous.get_bucket_info, anonymous.get_bucket_acl, anonymous.get_bucket_cors):
        raises_oss(call, oss2.exceptions.AccessDenied, 403, "AccessDenied")


def test_public_read_bucket(configured_oss, bare_oss):
    bucket(configured_oss["endpoint"]).put_object("pub/a.txt", b"public")
    anonymous = oss2.Bucket(oss2.AnonymousAuth(), configured_oss["endpoint"], BUCKET, region="cn-hangzhou")
    assert anonymous.get_object("pub/a.txt").read() == b"public"
    assert [o.key for o in anonymous.list_objects_v2(prefix="pub/").object_list] == ["pub/a.txt"]
    raises_oss(lambda: anonymous.put_object("pub/b.txt", b"x"), oss2.exceptions.AccessDenied, 403, "AccessDenied")
    raises_oss(lambda: anonymous.delete_object("pub/a.txt"), oss2.exceptions.AccessDenied, 403, "AccessDenied")
    bucket(bare_oss["endpoint"]).put_object("pub/a.txt", b"private")
    private = oss2.Bucket(oss2.AnonymousAuth(), bare_oss["endpoint"], BUCKET, region="cn-hangzhou")
    raises_oss(lambda: private.get_object("pub/a.txt"), oss2.exceptions.AccessDenied, 403, "AccessDenied")
    raises_oss(lambda: private.list_objects_v2(), oss2.exceptions.AccessDenied, 403, "AccessDenied")


def test_public_read_write_bucket_takes_anonymous_writes(tmp_path):
    with running_oss(tmp_path, settings=BucketSettings.from_document({"acl": "public-read-write"})) as info:
        anonymous = oss2.Bucket(oss2.AnonymousAuth(), info["endpoint"], BUCKET, region="cn-hangzhou")
        assert anonymous.put_object("open/a.txt", b"x").status == 200
        assert anonymous.delete_object("open/a.txt").status == 204


def preflight(endpoint, origin, method, headers=None):
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        request_headers["Access-Control-Request-Headers"] = headers
    return requests.options(endpoint + "/" + BUCKET + "/some/key", headers=request_headers)


@pytest.mark.parametrize("origin, method, headers, allowed", [
    (APP, "PUT", "content-type", True),
    (APP, "GET", "Content-Type, x-oss-date", True),
    ("https://cdn.example.org", "GET", None, True),
    ("https://example.org", "GET", None, False),
    ("https://evil.example", "PUT", None, False),
    (APP, "DELETE", None, False),
    (APP, "PUT", "authorization", False),
])
def test_preflight_follows_the_rules(configured_oss, origin, method, headers, allowed):
    answer = preflight(configured_oss["endpoint"], origin, method, headers)
    if allowed:
        assert answer.status_code == 200
        assert answer.headers["Access-Control-Allow-Origin"] == origin
        assert answer.headers["Access-Control-Allow-Methods"] == method
        assert answer.headers["Access-Control-Max-Age"] == "100"
        assert answer.headers["Access-Control-Expose-Headers"] == "ETag, x-oss-request-id"
    else:
        assert answer.status_code == 403 and b"<Code>AccessForbidden</Code>" in answer.content
        assert answer.headers["x-oss-request-id"] and "Access-Control-Allow-Origin" not in answer.headers


def test_default_rules_allow_delete_from_any_origin(default_oss):
    answer = preflight(default_oss["endpoint"], "http://localhost:5173", "DELETE", "x-oss-date, authorization")
    assert answer.status_code == 200 and answer.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert answer.headers["Access-Control-Allow-Methods"] == "DELETE"
    assert answer.headers["Access-Control-Allow-Headers"] == "x-oss-date, authorization"


def test_actual_requests_carry_cors_headers_only_when_a_rule_matches(configured_oss):
    bucket(configured_oss["endpoint"]).put_object("cors/a.txt", b"x")
    url = configured_oss["endpoint"] + "/" + BUCKET + "/cors/a.txt"
    allowed = requests.get(url, headers={"Origin": APP})
    assert allowed.status_code == 200 and allowed.headers["Access-Control-Allow-Origin"] == APP
    assert allowed.headers["Access-Control-Expose-Headers"] == "ETag, x-oss-request-id"
    assert allowed.headers["Access-Control-Allow-Methods"] == "GET, PUT"
    refused = requests.get(url, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 200 and "Access-Control-Allow-Origin" not in refused.headers
    wrong_method = requests.delete(url, headers={"Origin": APP})  # anonymous: refused, and no rule allows DELETE
    assert wrong_method.status_code == 403 and "Access-Control-Allow-Origin" not in wrong_method.headers


@pytest.mark.parametrize("document, message", [
    ({"acl": "public"}, "acl"),
    ({"cors": [{"allowedOrigins": ["*"], "allowedMethods": ["PATCH"]}]}, "allowedMethods"),
    ({"cors": [{"allowedOrigins": [], "allowedMethods": ["GET"]}]}, "allowedOrigins"),
    ({"lifecycle": [{"id": "x", "prefix": "", "abortMultipartUploadDays": 0}]}, "abortMultipartUploadDays"),
    ({"acl": "private", "website": {}}, "website"),
])
def test_bad_bucket_configs_are_refused(tmp_path, document, message):
    path = tmp_path / "bucket.json"
    path.write_text(json.dumps(document))
    process = subprocess.run([sys.executable, "-m", "local.oss", "--port", "0", "--bucket", BUCKET, "--data",
                              str(tmp_path / "data"), "--bucket-config", str(path)], cwd=str(ROOT),
                             env=dict(os.environ, LOCAL_OSS_ACCESS_KEY_ID=AK, LOCAL_OSS_ACCESS_KEY_SECRET=SK),
                             capture_output=True, text=True, timeout=30)
    assert process.returncode == 2 and message in process.stderr


def test_cli_serves_the_configured_bucket(tmp_path):
    path = tmp_path / "bucket.json"
    path.write_text(json.dumps(CONFIG))
    env = dict(os.environ, LOCAL_OSS_ACCESS_KEY_ID=AK, LOCAL_OSS_ACCESS_KEY_SECRET=SK,
               LOCAL_OSS_SECURITY_TOKEN=TOKEN)
    process = subprocess.Popen([sys.executable, "-m", "local.oss", "--port", "0", "--bucket", BUCKET, "--data",
                                str(tmp_path / "data"), "--bucket-config", str(path)], cwd=str(ROOT), env=env,
                               stdout=subprocess.PIPE, text=True)
    try:
        port = re.search(r"http://127\.0\.0\.1:(\d+)/", process.stdout.readline()).group(1)
        bkt = bucket("http://127.0.0.1:" + port)
        assert bkt.get_bucket_acl().acl == "public-read"
        assert bkt.get_bucket_cors().rules[0].allowed_origins == CONFIG["cors"][0]["allowedOrigins"]
        raises_oss(bkt.get_bucket_lifecycle, oss2.exceptions.NoSuchLifecycle, 404, "NoSuchLifecycle")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
