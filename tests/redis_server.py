"""A real Debian redis-server for the tests: started on a free port with no persistence, in a temp dir, stopped
(or killed, to test an outage) by the test that owns it. `make test` installs redis-server when missing."""

import os
import shutil
import socket
import subprocess
import tempfile
import time

from conftest import stop_process

REDIS_SERVER = os.environ.get("OSSGATE_REDIS_SERVER") or shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self, password=None, extra_args=()):
        self.password = password
        self.extra_args = list(extra_args)
        self.port = None
        self.process = None
        self.directory = None

    @property
    def url(self):
        auth = ":%s@" % self.password if self.password else ""
        return "redis://%s127.0.0.1:%d/0" % (auth, self.port)

    def url_with_password(self, password):
        return "redis://:%s@127.0.0.1:%d/0" % (password, self.port)

    def start(self, timeout=10.0):
        self.directory = tempfile.mkdtemp(prefix="ossgate-redis-")
        self.port = free_port()
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self.directory, "--loglevel", "warning"]
        if self.password:
            args += ["--requirepass", self.password]
        args += self.extra_args
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("redis-server exited with code %s" % self.process.returncode)
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith((b"+PONG", b"-NOAUTH")):
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not answer on port %d within %.0f s" % (self.port, timeout))

    def kill(self):
        """An outage: the server dies at once (SIGKILL), with its port closed."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self):
        if self.process:
            stop_process(self.process)
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
