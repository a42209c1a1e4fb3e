"""Upload callbacks after PutObject and CompleteMultipartUpload (x-oss-callback, x-oss-callback-var), as oss2
sends them: the local OSS posts the substituted body, signed, and relays the answer, or 203 CallbackFailed
with the object kept."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import oss2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from localoss import bucket
from localoss import server  # noqa: F401 - fixtures

KB = 1024


@pytest.fixture(scope="module")
def receiver():
    received = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, dict(self.headers), body))
            status = 500 if self.path.startswith("/fail") else 200
            answer = json.dumps({"seen": parse_qs(body.decode())}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d" % http.server_address[1], received
    http.shutdown()
    http.server_close()


def callback_headers(url, variables=None):
    spec = {"callbackUrl": url, "callbackBody": "key=${object}&etag=${etag}&size=${size}&type=${mimeType}&who=${x:who}",
            "callbackBodyType": "application/x-www-form-urlencoded"}
    headers = {"x-oss-callback": base64.b64encode(json.dumps(spec).encode()).decode()}
    if variables:
        headers["x-oss-callback-var"] = base64.b64encode(json.dumps(variables).encode()).decode()
    return headers


def verify(server, path, headers, body):
    public_key = server["oss"].callback_key.public_key()
    public_key.verify(base64.b64decode(headers["Authorization"]), path.encode() + b"\n" + body,
                      padding.PKCS1v15(), hashes.MD5())


def test_complete_with_callback_relays_the_answer(server, receiver):
    url, received = receiver
    bkt = bucket(server["endpoint"])
    upload_id = bkt.init_multipart_upload("cb/video.mp4", headers={"Content-Type": "video/mp4"}).upload_id
    part = bkt.upload_part("cb/video.mp4", upload_id, 1, b"v" * 10)
    result = bkt.complete_multipart_upload("cb/video.mp4", upload_id, [oss2.models.PartInfo(1, part.etag)],
                                           headers=callback_headers(url + "/done", {"x:who": "tester"}))
    assert result.status == 200
    answer = json.loads(result.resp.read())
    assert answer["seen"] == {"key": ["cb/video.mp4"], "etag": [result.etag], "size": ["10"],
                              "type": ["video/mp4"], "who": ["tester"]}
    path, headers, body = received[-1]
    verify(server, path, headers, body)


def test_put_with_failing_callback_keeps_the_object(server, receiver):
    url, _ = receiver
    bkt = bucket(server["endpoint"])
    result = bkt.put_object("cb/a.txt", b"kept", headers=callback_headers(url + "/fail"))
    assert result.status == 203  # a 2xx for the SDK, as on OSS: the error is in the body
    assert b"<Code>CallbackFailed</Code>" in result.resp.read() and result.resp.headers["x-oss-ec"]
    assert bkt.get_object("cb/a.txt").read() == b"kept"


def test_malformed_callback_is_refused_before_storing(server):
    bkt = bucket(server["endpoint"])
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bkt.put_object("cb/refused.txt", b"x", headers={"x-oss-callback": "not base64 json"})
    assert not bkt.object_exists("cb/refused.txt")
