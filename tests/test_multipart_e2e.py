"""Multipart uploads end to end over real HTTP: local FC server (the function) → presigned part PUTs → local OSS.

The local stack runs with WeChat sessions (two users) and upload callbacks on, as `make local` does.
"""

import hashlib
import itertools
import json
import os

import secrets
import sys
import threading
import time
from contextlib import contextmanager

import pytest

from formpost import http, oss_error_code, post_json
from local.dev import Server, free_port
from local.oss.store import Store
from stack import local_stack

KIB = 1024
PART = 100 * KIB
_codes = itertools.count()


@contextmanager
def second_instance(port, stack, env):
    """Another instance of the function (`python -m local.fc`), as FC starts one for a request that arrives while
    the first is busy: OSS calls the upload callback while the first instance waits for CompleteMultipartUpload,
    and the local FC server, like one FC instance, runs one invocation at a time."""
    from cryptography.hazmat.primitives import serialization

    with open(os.path.join(stack["data"], ".callback-key.pem"), "rb") as source:
        private = serialization.load_pem_private_key(source.read(), None)
    public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
    env = dict({k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_CLOUD_", "OSS_", "LOCAL_OSS_"))},
               OSS_BUCKET=stack["bucket"], OSS_REGION="cn-hangzhou", OSS_CALLBACK_PUBLIC_KEY=public,
               OSS_UPLOAD_HOST="%s/%s" % (stack["oss"], stack["bucket"]), OSS_ENDPOINT=stack["oss"],
               WECHAT_APPID="wxlocaldev", WECHAT_SECRET="unused-here", WECHAT_API_BASE=stack["wechat"], **env)
    server = Server("fc", port, [sys.executable, "-m", "local.fc", "--port", str(port)], env)
    try:
        server.wait_ready(time.monotonic() + 15, threading.Event())  # its own banner, not just an open port
        yield
    finally:
        server.stop()
        server.wait_stopped()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    profiles = json.dumps({"default": {"maxSize": 4 * 1024 * KIB}, "video": {"maxSize": 1024 * KIB,
                                                                             "contentTypes": ["video/*"]}})
    callback_port = free_port()
    shared = {"UPLOAD_PROFILES": profiles, "SESSION_SECRETS": secrets.token_hex(32), "AUTH_MODE": "wechat",
              "CALLBACK_URL": "http://127.0.0.1:%d/v1/oss-callback" % callback_port}
    with local_stack(tmp_path_factory.mktemp("mp-e2e"), **shared) as info:
        with second_instance(callback_port, info, shared):
            yield info


def login(stack, who):
    status, session = post_json(stack["fc"] + "/v1/session",
                                {"code": "%s-%d" % (who, next(_codes))})
    assert status == 200, session
    return {"Authorization": "Bearer " + session["token"]}


@pytest.fixture(scope="module")
def alice(stack):
    return login(stack, "alice")


@pytest.fixture(scope="module")
def bob(stack):
    return login(stack, "bob")


def route(stack, user, name, body):
    return post_json(stack["fc"] + "/v1/multipart/" + name, body, user)


def initiate(stack, user, data, **extra):
    body = dict({"size": len(data), "partSize": PART, "contentType": "video/mp4", "filename": "clip.mp4"}, **extra)
    status, answer = route(stack, user, "uploads", body)
    assert status == 200, answer
    return answer


def put_part(part, data, headers=None):
    return http(part["method"], part["url"], data, headers if headers is not None else part["headers"])


def put_all(upload, data, skip=()):
    for part in upload["parts"]:
        if part["partNumber"] in skip:
            continue
        start = (part["partNumber"] - 1) * upload["partSize"]
        status, _, body = put_part(part, data[start:start + upload["partSize"]])
        assert status == 200, body


def ref(upload):
    return {"key": upload["key"], "uploadId": upload["uploadId"]}


def store(stack):
    return Store(stack["data"], stack["bucket"])


def test_parts_put_to_presigned_urls_complete_into_the_same_bytes(stack, alice):
    data = os.urandom(3 * PART + 12345)
    upload = initiate(stack, alice, data)
    assert (upload["partSize"], upload["partCount"], len(upload["parts"])) == (PART, 4, 4)
    put_all(upload, data)
    status, done = route(stack, alice, "complete", ref(upload))
    assert status == 200, done
    assert (done["key"], done["size"]) == (upload["key"], len(data))
    assert done["etag"].endswith("-4")
    # the upload callback's answer (verified by the function) comes back as data
    assert done["data"]["key"] == upload["key"] and done["data"]["size"] == len(data)
    assert done["data"]["mimeType"] == "video/mp4"
    meta, stored = store(stack).get(upload["key"])
    assert stored == data and hashlib.md5(stored).digest() == hashlib.md5(data).digest()
    # the download route serves it with the type fixed at initiate
    status, download = post_json(stack["fc"] + "/v1/downloads", {"key": upload["key"]}, alice)
    status, headers, body = http("GET", download["url"])
    assert (status, body, headers["Content-Type"]) == (200, data, "video/mp4")
    # completed: the upload is gone, and a repeated complete (its first answer lost) finds the stored object
    status, again = route(stack, alice, "complete", ref(upload))
    assert (status, again) == (200, {"key": upload["key"], "size": len(data)})
    status, gone = route(stack, alice, "parts", dict(ref(upload), partNumbers=[1]))
    assert status == 200  # part URLs are signed without asking OSS; the upload itself is gone:
    assert put_part(gone["parts"][0], data[:PART])[0] == 404


def test_parts_above_the_declared_size_are_refused_and_the_upload_aborted(stack, alice):
    upload = initiate(stack, alice, b"x" * (2 * PART))
    assert upload["partCount"] == 2
    # a presigned PUT cannot limit a part's size: the client sends more than it declared
    assert put_part(upload["parts"][0], os.urandom(PART))[0] == 200
    assert put_part(upload["parts"][1], os.urandom(3 * PART))[0] == 200
    status, answer = route(stack, alice, "complete", ref(upload))
    assert (status, answer["error"]["code"]) == (413, "file_too_large")
    # ListParts (through the function) now finds no upload, and nothing was stored
    status, answer = route(stack, alice, "parts", dict(ref(upload), partNumbers=[], listUploaded=True))
    assert (status, answer["error"]["code"]) == (404, "no_such_upload")
    assert not store(stack).exists(upload["key"])


def test_parts_above_the_profiles_limit_are_refused(stack, alice):
    upload = initiate(stack, alice, b"x" * (1024 * KIB), profile="video", partSize=512 * KIB)
    assert put_part(upload["parts"][0], os.urandom(512 * KIB))[0] == 200
    assert put_part(upload["parts"][1], os.urandom(512 * KIB + 1))[0] == 200
    status, answer = route(stack, alice, "complete", ref(upload))
    assert (status, answer["error"]["code"]) == (413, "file_too_large")
    assert not store(stack).exists(upload["key"])


def test_another_users_key_or_upload_id_is_refused(stack, alice, bob):
    data = os.urandom(PART + 5)
    upload = initiate(stack, alice, data)
    put_all(upload, data)
    for name, extra in [("parts", {"partNumbers": [1], "listUploaded": True}), ("complete", {}), ("abort", {})]:
        status, answer = route(stack, bob, name, dict(ref(upload), **extra))
        assert (status, answer["error"]["code"]) == (403, "forbidden"), name
    # bob's own key with alice's uploadId names no upload of his: OSS binds an uploadId to its key
    own = initiate(stack, bob, b"y" * 10)
    for name in ("complete", "abort"):
        status, answer = route(stack, bob, name, {"key": own["key"], "uploadId": upload["uploadId"]})
        assert (status, answer["error"]["code"]) == (404, "no_such_upload"), name
    # alice's upload is untouched
    status, done = route(stack, alice, "complete", ref(upload))
    assert status == 200 and store(stack).get(upload["key"])[1] == data


def test_a_part_sent_with_another_content_type_is_refused_by_oss(stack, alice):
    upload = initiate(stack, alice, b"z" * 10)
    part = upload["parts"][0]
    assert part["headers"] == {"Content-Type": "application/octet-stream"}
    for headers in ({"Content-Type": "application/json"}, {"Content-Type": "video/mp4"}):
        status, _, body = put_part(part, b"z" * 10, headers)
        assert (status, oss_error_code(body)) == (403, "SignatureDoesNotMatch")
    status, listed = route(stack, alice, "parts", dict(ref(upload), listUploaded=True))
    assert status == 200 and listed["uploaded"] == []


def test_a_missing_part_is_named_then_sent_and_the_upload_completes(stack, alice):
    data = os.urandom(4 * PART)
    upload = initiate(stack, alice, data)
    put_all(upload, data, skip=(2,))
    status, answer = route(stack, alice, "complete", ref(upload))
    assert (status, answer["error"]["code"]) == (400, "incomplete_upload")
    assert "missing parts: 2;" in answer["error"]["message"]
    # resume: what OSS holds, and a fresh URL for the missing part
    status, fresh = route(stack, alice, "parts", dict(ref(upload), partNumbers=[2], listUploaded=True))
    assert status == 200
    assert [(p["partNumber"], p["size"]) for p in fresh["uploaded"]] == [(1, PART), (3, PART), (4, PART)]
    assert fresh["uploaded"][0]["etag"].upper() == hashlib.md5(data[:PART]).hexdigest().upper()
    assert put_part(fresh["parts"][0], data[PART:2 * PART])[0] == 200
    status, done = route(stack, alice, "complete", ref(upload))
    assert status == 200 and store(stack).get(upload["key"])[1] == data


def test_a_short_last_part_is_incomplete(stack, alice):
    data = os.urandom(2 * PART + 10)
    upload = initiate(stack, alice, data)
    put_all(upload, data[:-1])
    status, answer = route(stack, alice, "complete", ref(upload))
    assert (status, answer["error"]["code"]) == (400, "incomplete_upload")
    assert "%d of the %d bytes" % (len(data) - 1, len(data)) in answer["error"]["message"]


def test_abort_then_complete_is_404(stack, alice):
    data = os.urandom(PART)
    upload = initiate(stack, alice, data)
    put_all(upload, data)
    status, answer = route(stack, alice, "abort", ref(upload))
    assert (status, answer) == (200, {"aborted": True})
    status, answer = route(stack, alice, "complete", ref(upload))
    assert (status, answer["error"]["code"]) == (404, "no_such_upload")
    status, answer = route(stack, alice, "abort", ref(upload))
    assert (status, answer["error"]["code"]) == (404, "no_such_upload")


def test_refusals_before_oss(stack, alice):
    status, answer = post_json(stack["fc"] + "/v1/multipart/uploads", {"size": 5})
    assert (status, answer["error"]["code"]) == (401, "unauthorized")
    status, answer = route(stack, alice, "uploads", {"size": 5 * 1024 * KIB})
    assert (status, answer["error"]["code"]) == (413, "file_too_large")
    status, answer = route(stack, alice, "uploads", {"size": 5, "profile": "video", "contentType": "image/png"})
    assert (status, answer["error"]["code"]) == (415, "unsupported_type")


def test_a_multipart_object_is_stored_as_an_attachment(stack, alice):
    """As a form upload's pinned Content-Disposition: set at initiate, so no link made another way opens it."""
    data = os.urandom(PART + 10)
    upload = initiate(stack, alice, data)
    put_all(upload, data)
    status, done = route(stack, alice, "complete", ref(upload))
    assert status == 200, done
    name = upload["key"].rsplit("/", 1)[1]
    assert store(stack).head(upload["key"])["headers"]["Content-Disposition"] == \
        "attachment; filename=\"%s\"; filename*=UTF-8''%s" % (name, name)


def test_active_types_get_no_multipart_upload(stack, alice):
    status, answer = route(stack, alice, "uploads", {"size": 3 * PART, "contentType": "text/html"})
    assert (status, answer["error"]["code"]) == (415, "unsupported_type")
