"""What the SDK matrix (tests/test_sdk_*.py) shares: `python -m local.oss` started as its own process on a free
port with one credential, and a TCP proxy whose network can be cut mid-upload."""

import os
import re
import secrets
import select
import socket
import subprocess
import sys
import threading
from contextlib import contextmanager

from conftest import ROOT, stop_process

BUCKET = "sdk-bucket"
REGION = "cn-hangzhou"
ACCESS_KEY_ID = "LTAI5tSdkMatrixKey"
_BANNER_PORT = re.compile(r"http://[0-9.]+:(\d+)/")


class LocalOssProcess:
    def __init__(self, endpoint, access_key_id, access_key_secret, security_token, data_dir):
        self.endpoint = endpoint
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.security_token = security_token
        self.data_dir = data_dir


@contextmanager
def local_oss(data_dir, with_token, same_as=None):
    """`python -m local.oss --port 0` with a fresh credential (and an STS token when `with_token`), or, for a
    restart over the same data, the credential of the LocalOssProcess `same_as`."""
    secret = same_as.access_key_secret if same_as else secrets.token_urlsafe(24)
    token = same_as.security_token if same_as else ("CAIS" + secrets.token_urlsafe(32) if with_token else None)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_CLOUD_", "OSS_", "LOCAL_OSS_"))}
    env.update({"LOCAL_OSS_ACCESS_KEY_ID": ACCESS_KEY_ID, "LOCAL_OSS_ACCESS_KEY_SECRET": secret})
    if token:
        env["LOCAL_OSS_SECURITY_TOKEN"] = token
    process = subprocess.Popen(
        [sys.executable, "-m", "local.oss", "--port", "0", "--bucket", BUCKET, "--data", str(data_dir),
         "--region", REGION],
        cwd=str(ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([process.stdout], [], [], 20)
        line = process.stdout.readline() if ready else ""
        match = _BANNER_PORT.search(line)
        if not match:
            process.kill()
            raise RuntimeError("local.oss did not start: %r %s" % (line, process.stderr.read()))
        yield LocalOssProcess("http://127.0.0.1:%s" % match.group(1), ACCESS_KEY_ID, secret, token, data_dir)
    finally:
        stop_process(process)
        process.stdout.close()
        process.stderr.close()


def flip_last_hex(signature):
    """The same signature with its last hex digit changed: one byte off."""
    return signature[:-1] + ("0" if signature[-1] != "0" else "1")


def tamper_authorization(value):
    """An `Authorization: OSS4-HMAC-SHA256 ...` header with one byte of its Signature= changed."""
    match = re.search(r"Signature=([0-9a-f]{64})", value)
    assert match, value
    return value[:match.start(1)] + flip_last_hex(match.group(1)) + value[match.end(1):]


def tamper_url(url):
    """A presigned URL with one byte of its x-oss-signature changed."""
    match = re.search(r"x-oss-signature=([0-9a-f]{64})", url)
    assert match, url
    return url[:match.start(1)] + flip_last_hex(match.group(1)) + url[match.end(1):]


class CuttingProxy:
    """A TCP proxy to `target` (host, port) that forwards until `budget` request bytes have passed, then cuts:
    it closes every open connection and drops every new one (the network is down) until `restore()`.
    `sent` counts the request bytes that reached the server since the last `restore()` or start."""

    def __init__(self, target, budget=None):
        self.target = target
        self.budget = budget
        self.sent = 0
        self.cut = False
        self._lock = threading.Lock()
        self._sockets = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint = "http://127.0.0.1:%d" % self._listener.getsockname()[1]
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def restore(self, budget=None):
        with self._lock:
            self.cut, self.budget, self.sent = False, budget, 0

    def close(self):
        self._stopped = True
        self._listener.close()
        self._cut_all()

    def _cut_all(self):
        with self._lock:
            self.cut = True
            sockets, self._sockets = list(self._sockets), set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self):
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.cut:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source, sink, counted):
        try:
            while True:
                chunk = source.recv(65536)
                if not chunk:
                    break
                if counted:
                    with self._lock:
                        allowed = len(chunk) if self.budget is None else max(0, self.budget - self.sent)
                        chunk = chunk[:allowed]
                        self.sent += len(chunk)
                        over = self.budget is not None and self.sent >= self.budget
                    if chunk:
                        sink.sendall(chunk)
                    if over:
                        self._cut_all()
                        return
                else:
                    sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            if counted:
                with self._lock:
                    self._sockets.difference_update((source, sink))
                source.close()
                sink.close()


def random_file(path, size):
    data = os.urandom(size)
    with open(path, "wb") as out:
        out.write(data)
    return data
