"""`make local`: the whole flow with no cloud account: the local OSS, the local FC server in front of the function,
and a local WeChat code2Session stand-in, with development credentials, sessions and upload callbacks.

    python -m local.dev [--host 127.0.0.1] [--fc-port 9000] [--oss-port 9100] [--wechat-port 9200] [--data .local/oss]
                        [--redis]

--redis (or LOCAL_REDIS=1) also starts Debian's redis-server on a free port, without persistence, and turns quotas
on (QUOTA_REDIS_URL; QUOTAS defaults to LOCAL_QUOTAS below unless set in the environment).

Prints a working curl example, then a line `ready {json}` (for scripts), and stops every server on Ctrl-C or
SIGTERM. Settings already in the environment (AUTH_MODE=anonymous, UPLOAD_PROFILES, CALLBACK_URL=, ...) are
passed to the function and win over the defaults here. `MODERATION=wechat make local` also turns on content
moderation: the WeChat stand-in checks uploaded images and audio and pushes its verdicts to the function.

A port already in use ends it with one line saying how to pick others. A server counts as ready only when it
prints its own banner naming its port, so whatever else listens there cannot pass for it. `--host 0.0.0.0`
serves the FC trigger and the OSS on every interface, and the upload host and the printed URLs use this
machine's LAN address, so phones and other machines on the network can use them.

Ctrl-C: the servers ignore SIGINT (the terminal sends it to the whole process group); this process alone
receives it and stops each server once, with SIGTERM, so they end quietly.
"""

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time

from .callback import write_key_pair

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUCKET = "local-bucket"
REGION = "cn-hangzhou"
LOCAL_QUOTAS = '{"*": {"ticketsPerMinute": 30, "uploadsPerDay": 500, "bytesPerDay": 2147483648}}'
DEMO_DIRS = {"/demo/": os.path.join(ROOT, "miniprogram", "web"), "/ossgate/": os.path.join(ROOT, "miniprogram", "ossgate")}
LOOPBACK = "127.0.0.1"
WILDCARD_HOSTS = ("0.0.0.0", "")  # the servers are IPv4 (http.server's default)
PORT_SETTINGS = (("fc", "FC_PORT"), ("oss", "OSS_PORT"), ("wechat", "WECHAT_PORT"))
START_TIMEOUT = 15.0


class StartError(Exception):
    """A server could not start; the message is one line for the person running `make local`."""


def free_port():
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def port_in_use(host, port):
    """True when (host, port) cannot be bound the way the servers bind it (SO_REUSEADDR, like http.server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def busy_port_message(setting, port, ports):
    others = " ".join("%s=%d" % (name, ports[key] + 1 if name == setting else ports[key])
                      for key, name in PORT_SETTINGS)
    return ("local.dev: port %d (%s) is already in use by another program; pick free ports, e.g. "
            "make local %s" % (port, setting, others))


def lan_address():
    """This machine's address on its network (the interface that routes outward); loopback when offline.
    A UDP connect sends no packet: it only makes the kernel choose the source address."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # TEST-NET-1 (RFC 5737): never answered, only routed
            return sock.getsockname()[0]
        except OSError:
            return LOOPBACK


def reachable_address(host):
    """The address other machines use for servers bound to `host`."""
    if host in WILDCARD_HOSTS:
        return lan_address()
    return host


class Server:
    """One child server whose own banner line on stdout ("local.<name>: ... :<port>/ ...") says it is serving."""

    def __init__(self, name, port, argv, env):
        self.name, self.port = name, port
        self.ready = threading.Event()
        self.process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()

    def _is_banner(self, line):
        return line.startswith("local.%s:" % self.name) and (":%d/" % self.port) in line

    def _pump(self):
        for line in self.process.stdout:
            try:
                sys.stdout.write(line)
                sys.stdout.flush()
            except (OSError, ValueError):
                pass  # our own output is gone (a closed pipe): keep draining the server's, or it would block
            if not self.ready.is_set() and self._is_banner(line):
                self.ready.set()  # after the banner is out: every banner precedes the `ready` line

    def wait_ready(self, deadline, stopping):
        while not self.ready.wait(0.05) and not stopping.is_set():
            if self.process.poll() is not None:
                raise StartError("local.dev: local.%s exited (code %s) before it was ready on port %d"
                                 % (self.name, self.process.returncode, self.port))
            if time.monotonic() > deadline:
                raise StartError("local.dev: local.%s did not report ready on port %d within %.0f s"
                                 % (self.name, self.port, START_TIMEOUT))

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()

    def wait_stopped(self):
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.pump.join(timeout=1)


def stack_environment(base, fc_port, oss_port, wechat_port, access_key_id, access_key_secret, security_token,
                      callback_public_key, public_address=LOOPBACK, internal_address=LOOPBACK):
    """The servers' environment. `public_address`: where clients reach the OSS (the upload host);
    `internal_address`: where the servers reach each other (callbacks, the function's OSS endpoint)."""
    env = dict(base)
    defaults = {
        "AUTH_MODE": "wechat", "CORS_ALLOW_ORIGINS": "*",
        "WECHAT_APPID": "wxlocaldev", "WECHAT_SECRET": "local-app-secret-" + secrets.token_hex(8),
        "WECHAT_API_BASE": "http://127.0.0.1:%d" % wechat_port,
        "SESSION_SECRETS": secrets.token_hex(32),
        "CALLBACK_URL": "http://%s:%d/v1/oss-callback" % (internal_address, fc_port),
        "OSS_CALLBACK_PUBLIC_KEY": callback_public_key,
        "WECHAT_PUSH_TOKEN": "localpush" + secrets.token_hex(8),
    }
    for name, value in defaults.items():
        env.setdefault(name, value)
    env.update({
        "LOCAL_OSS_ACCESS_KEY_ID": access_key_id, "LOCAL_OSS_ACCESS_KEY_SECRET": access_key_secret,
        "LOCAL_OSS_SECURITY_TOKEN": security_token,
        "ALIBABA_CLOUD_ACCESS_KEY_ID": access_key_id, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": access_key_secret,
        "ALIBABA_CLOUD_SECURITY_TOKEN": security_token,
        "OSS_BUCKET": BUCKET, "OSS_REGION": REGION,
        "OSS_UPLOAD_HOST": "http://%s:%d/%s" % (public_address, oss_port, BUCKET),
        "OSS_ENDPOINT": "http://%s:%d" % (internal_address, oss_port),
        "PYTHONUNBUFFERED": "1",
    })
    return env


def wechat_push_arguments(env, fc_port, internal_address=LOOPBACK):
    """With MODERATION=wechat the WeChat stand-in pushes check results to the function, signed with its Token
    (and in safe mode when WECHAT_PUSH_AES_KEY is set)."""
    if env.get("MODERATION") != "wechat":
        return []
    arguments = ["--push-url", "http://%s:%d/v1/wechat/push" % (internal_address, fc_port),
                 "--push-token", env["WECHAT_PUSH_TOKEN"]]
    if env.get("WECHAT_PUSH_AES_KEY"):
        arguments += ["--push-aes-key", env["WECHAT_PUSH_AES_KEY"]]
    if env.get("LOCAL_WECHAT_PUSH_DELAY"):
        arguments += ["--push-delay", env["LOCAL_WECHAT_PUSH_DELAY"]]
    return arguments


def start_redis(data_dir):
    """redis-server on a free port, no RDB or AOF, its working dir under the data dir → (process, port)."""
    import shutil

    server = os.environ.get("OSSGATE_REDIS_SERVER") or shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    folder = os.path.join(data_dir, ".redis")
    os.makedirs(folder, exist_ok=True)
    # Its own session: redis-server handles SIGINT itself, so Ctrl-C would stop it behind local.dev's back.
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", folder, "--loglevel", "warning", "--logfile", "redis.log"],
                               start_new_session=True)
    return process, port


def wait_for_redis(port, process, timeout=START_TIMEOUT):
    """Until the redis-server we started answers PING on its port (not merely until something listens there)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartError("local.dev: redis-server exited (code %s) before it was ready" % process.returncode)
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(64).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise StartError("local.dev: redis-server did not answer PING on port %d within %.0f s" % (port, timeout))


def curl_example(fc_port, auth_mode, address=LOOPBACK):
    login = auth = ""
    if auth_mode == "wechat":
        login = (
            "# 0. log in (the local WeChat stand-in accepts any code: 'alice', 'alice-2' ... are one user)\n"
            "TOKEN=$(curl -s -X POST http://{a}:{p}/v1/session -H 'Content-Type: application/json' \\\n"
            "     -d '{{\"code\": \"alice-'$RANDOM'\"}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"token\"])')\n")
        auth = " -H \"Authorization: Bearer $TOKEN\""
    return (login +
        "# 1. ask the function for an upload ticket\n"
        "curl -s -X POST http://{a}:{p}/v1/uploads -H 'Content-Type: application/json'" + auth + " \\\n"
        "     -d '{{\"size\": 6, \"contentType\": \"text/plain\", \"filename\": \"hello.txt\"}}' > /tmp/ticket.json\n"
        "# 2. post the file to the local OSS with the ticket's fields (file last)\n"
        "printf 'hello\\n' > /tmp/hello.txt\n"
        "python3 -c \"import json,shlex; t=json.load(open('/tmp/ticket.json')); "
        "print(' '.join(['curl -s -i'] + ['-F ' + shlex.quote(k + '=' + v) for k, v in t['fields'].items()]"
        " + ['-F file=@/tmp/hello.txt', shlex.quote(t['url'])]))\" | sh\n"
    ).format(a=address, p=fc_port)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m local.dev", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=LOOPBACK,
                        help="interface the FC trigger and the OSS listen on (0.0.0.0: the whole LAN)")
    parser.add_argument("--fc-port", type=int, default=9000)
    parser.add_argument("--oss-port", type=int, default=9100)
    parser.add_argument("--wechat-port", type=int, default=9200)
    parser.add_argument("--data", default=os.path.join(ROOT, ".local", "oss"))
    parser.add_argument("--redis", action="store_true", default=os.environ.get("LOCAL_REDIS") == "1",
                        help="start a redis-server and turn quotas on")
    args = parser.parse_args(argv)
    ports = {"fc": args.fc_port or free_port(), "oss": args.oss_port or free_port(),
             "wechat": args.wechat_port or free_port()}
    hosts = {"fc": args.host, "oss": args.host, "wechat": LOOPBACK}  # only the function calls the WeChat stand-in
    for key, setting in PORT_SETTINGS:
        if port_in_use(hosts[key], ports[key]):
            print(busy_port_message(setting, ports[key], ports), file=sys.stderr)
            return 1
    address = reachable_address(args.host)
    internal_address = LOOPBACK if args.host in WILDCARD_HOSTS else args.host
    os.makedirs(args.data, exist_ok=True)
    key_path = os.path.join(args.data, ".callback-key.pem")
    public_pem = write_key_pair(key_path)
    env = stack_environment(os.environ, ports["fc"], ports["oss"], ports["wechat"], "LTAI-local-dev",
                            secrets.token_urlsafe(24), "local-sts-" + secrets.token_urlsafe(16), public_pem,
                            public_address=address, internal_address=internal_address)
    redis_process = None
    if args.redis:
        redis_process, redis_port = start_redis(args.data)
        env["QUOTA_REDIS_URL"] = "redis://127.0.0.1:%d/0" % redis_port
        env.setdefault("QUOTAS", LOCAL_QUOTAS)
    python = sys.executable
    static = []
    for prefix, folder in DEMO_DIRS.items():
        if os.path.isdir(folder):
            static += ["--static", "%s=%s" % (prefix, folder)]
    commands = {
        "oss": ["-m", "local.oss", "--host", hosts["oss"], "--port", str(ports["oss"]), "--bucket", BUCKET,
                "--data", args.data, "--region", REGION, "--callback-key", key_path],
        "fc": ["-m", "local.fc", "--host", hosts["fc"], "--port", str(ports["fc"])] + static,
        "wechat": ["-m", "local.wechat", "--port", str(ports["wechat"])]
                  + wechat_push_arguments(env, ports["fc"], internal_address),
    }
    servers = []
    stopping = threading.Event()

    def request_stop(*_):
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    exit_code = 0
    try:
        deadline = time.monotonic() + START_TIMEOUT
        # Ctrl-C reaches the whole foreground process group. The servers start with SIGINT ignored (an ignored
        # signal stays ignored across exec, and Python then leaves it so), so only this process acts on it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for key in ("oss", "fc", "wechat"):
            servers.append(Server(key, ports[key], [python] + commands[key], env))
        signal.signal(signal.SIGINT, request_stop)
        for server in servers:
            server.wait_ready(deadline, stopping)
        if stopping.is_set():
            return 0
        if redis_process:
            wait_for_redis(redis_port, redis_process)
            print("Quotas on: QUOTAS=%s, Redis at %s" % (env["QUOTAS"], env["QUOTA_REDIS_URL"]))
        print("\nossgate is running locally (AUTH_MODE=%s, callbacks %s). Try:\n\n%s"
              % (env["AUTH_MODE"], "on" if env.get("CALLBACK_URL") else "off",
                 curl_example(ports["fc"], env["AUTH_MODE"], address)))
        if static:
            print("Browser demo: http://%s:%d/demo/\n" % (address, ports["fc"]))
        if args.host in WILDCARD_HOSTS:
            print("Serving the LAN: a phone or another machine uses http://%s:%d as the function's base URL "
                  "(WeChat DevTools: tick \"do not verify legal domains\").\n" % (address, ports["fc"]))
        print("ready " + json.dumps({"fc": "http://%s:%d" % (address, ports["fc"]),
                                     "oss": "http://%s:%d" % (address, ports["oss"]),
                                     "wechat": "http://127.0.0.1:%d" % ports["wechat"], "bucket": BUCKET,
                                     "data": args.data, "authMode": env["AUTH_MODE"],
                                     "callbacks": bool(env.get("CALLBACK_URL")),
                                     "moderation": env.get("MODERATION") == "wechat",
                                     "quotas": bool(redis_process)}), flush=True)
        children = [server.process for server in servers] + ([redis_process] if redis_process else [])
        while not stopping.wait(0.2):
            if any(child.poll() is not None for child in children):
                print("local.dev: a local server stopped; shutting the others down", file=sys.stderr)
                exit_code = 1
                break
    except StartError as exc:
        print(exc, file=sys.stderr)
        exit_code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while stopping changes nothing
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for server in servers:
            server.stop()
        for server in servers:
            server.wait_stopped()
        if redis_process and redis_process.poll() is None:
            redis_process.terminate()
            redis_process.wait(timeout=10)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
