"""`make local`: the whole flow with no cloud account: the local OSS, the local FC server in front of the function,
and a local WeChat code2Session stand-in, with development credentials, sessions and upload callbacks.

    python -m local.dev [--fc-port 9000] [--oss-port 9100] [--wechat-port 9200] [--data .local/oss]

Prints a working curl example, then a line `ready {json}` (for scripts), and stops every server on Ctrl-C or
SIGTERM. Settings already in the environment (AUTH_MODE=anonymous, UPLOAD_PROFILES, CALLBACK_URL=, ...) are
passed to the function and win over the defaults here. `MODERATION=wechat make local` also turns on content
moderation: the WeChat stand-in checks uploaded images and audio and pushes its verdicts to the function.
"""

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time

from .callback import write_key_pair

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUCKET = "local-bucket"
REGION = "cn-hangzhou"
DEMO_DIRS = {"/demo/": os.path.join(ROOT, "miniprogram", "web"), "/ossgate/": os.path.join(ROOT, "miniprogram", "ossgate")}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, process, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("a local server exited with code %s" % process.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d did not open within %.0f s" % (port, timeout))


def stack_environment(base, fc_port, oss_port, wechat_port, access_key_id, access_key_secret, security_token,
                      callback_public_key):
    env = dict(base)
    defaults = {
        "AUTH_MODE": "wechat", "CORS_ALLOW_ORIGINS": "*",
        "WECHAT_APPID": "wxlocaldev", "WECHAT_SECRET": "local-app-secret-" + secrets.token_hex(8),
        "WECHAT_API_BASE": "http://127.0.0.1:%d" % wechat_port,
        "SESSION_SECRETS": secrets.token_hex(32),
        "CALLBACK_URL": "http://127.0.0.1:%d/v1/oss-callback" % fc_port,
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
        "OSS_UPLOAD_HOST": "http://127.0.0.1:%d/%s" % (oss_port, BUCKET),
        "OSS_ENDPOINT": "http://127.0.0.1:%d" % oss_port,
        "PYTHONUNBUFFERED": "1",
    })
    return env


def wechat_push_arguments(env, fc_port):
    """With MODERATION=wechat the WeChat stand-in pushes check results to the function, signed with its Token
    (and in safe mode when WECHAT_PUSH_AES_KEY is set)."""
    if env.get("MODERATION") != "wechat":
        return []
    arguments = ["--push-url", "http://127.0.0.1:%d/v1/wechat/push" % fc_port, "--push-token", env["WECHAT_PUSH_TOKEN"]]
    if env.get("WECHAT_PUSH_AES_KEY"):
        arguments += ["--push-aes-key", env["WECHAT_PUSH_AES_KEY"]]
    if env.get("LOCAL_WECHAT_PUSH_DELAY"):
        arguments += ["--push-delay", env["LOCAL_WECHAT_PUSH_DELAY"]]
    return arguments


def curl_example(fc_port, auth_mode):
    login = auth = ""
    if auth_mode == "wechat":
        login = (
            "# 0. log in (the local WeChat stand-in accepts any code: 'alice', 'alice-2' ... are one user)\n"
            "TOKEN=$(curl -s -X POST http://127.0.0.1:{p}/v1/session -H 'Content-Type: application/json' \\\n"
            "     -d '{{\"code\": \"alice-'$RANDOM'\"}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"token\"])')\n")
        auth = " -H \"Authorization: Bearer $TOKEN\""
    return (login +
        "# 1. ask the function for an upload ticket\n"
        "curl -s -X POST http://127.0.0.1:{p}/v1/uploads -H 'Content-Type: application/json'" + auth + " \\\n"
        "     -d '{{\"size\": 6, \"contentType\": \"text/plain\", \"filename\": \"hello.txt\"}}' > /tmp/ticket.json\n"
        "# 2. post the file to the local OSS with the ticket's fields (file last)\n"
        "printf 'hello\\n' > /tmp/hello.txt\n"
        "python3 -c \"import json,shlex; t=json.load(open('/tmp/ticket.json')); "
        "print(' '.join(['curl -s -i'] + ['-F ' + shlex.quote(k + '=' + v) for k, v in t['fields'].items()]"
        " + ['-F file=@/tmp/hello.txt', shlex.quote(t['url'])]))\" | sh\n"
    ).format(p=fc_port)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m local.dev", description=__doc__.split("\n\n")[0])
    parser.add_argument("--fc-port", type=int, default=9000)
    parser.add_argument("--oss-port", type=int, default=9100)
    parser.add_argument("--wechat-port", type=int, default=9200)
    parser.add_argument("--data", default=os.path.join(ROOT, ".local", "oss"))
    args = parser.parse_args(argv)
    fc_port = args.fc_port or free_port()
    oss_port = args.oss_port or free_port()
    wechat_port = args.wechat_port or free_port()
    os.makedirs(args.data, exist_ok=True)
    key_path = os.path.join(args.data, ".callback-key.pem")
    public_pem = write_key_pair(key_path)
    env = stack_environment(os.environ, fc_port, oss_port, wechat_port, "LTAI-local-dev",
                            secrets.token_urlsafe(24), "local-sts-" + secrets.token_urlsafe(16), public_pem)
    python = sys.executable
    static = []
    for prefix, folder in DEMO_DIRS.items():
        if os.path.isdir(folder):
            static += ["--static", "%s=%s" % (prefix, folder)]
    processes = [
        subprocess.Popen([python, "-m", "local.oss", "--port", str(oss_port), "--bucket", BUCKET,
                          "--data", args.data, "--region", REGION, "--callback-key", key_path], cwd=ROOT, env=env),
        subprocess.Popen([python, "-m", "local.fc", "--port", str(fc_port)] + static, cwd=ROOT, env=env),
        subprocess.Popen([python, "-m", "local.wechat", "--port", str(wechat_port)]
                         + wechat_push_arguments(env, fc_port), cwd=ROOT, env=env),
    ]

    def stop(code=0):
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
        sys.exit(code)

    signal.signal(signal.SIGTERM, lambda *_: stop(0))
    exit_code = 0
    try:
        wait_for_port(oss_port, processes[0])
        wait_for_port(fc_port, processes[1])
        wait_for_port(wechat_port, processes[2])
        print("\nossgate is running locally (AUTH_MODE=%s, callbacks %s). Try:\n\n%s"
              % (env["AUTH_MODE"], "on" if env.get("CALLBACK_URL") else "off",
                 curl_example(fc_port, env["AUTH_MODE"])))
        if static:
            print("Browser demo: http://127.0.0.1:%d/demo/\n" % fc_port)
        print("ready " + json.dumps({"fc": "http://127.0.0.1:%d" % fc_port, "oss": "http://127.0.0.1:%d" % oss_port,
                                     "wechat": "http://127.0.0.1:%d" % wechat_port, "bucket": BUCKET,
                                     "data": args.data, "authMode": env["AUTH_MODE"],
                                     "callbacks": bool(env.get("CALLBACK_URL")),
                                     "moderation": env.get("MODERATION") == "wechat"}), flush=True)
        while all(process.poll() is None for process in processes):
            time.sleep(0.2)
        print("local.dev: a local server stopped; shutting the others down", file=sys.stderr)
        exit_code = 1
    except KeyboardInterrupt:
        pass
    except RuntimeError as exc:
        print("local.dev: %s" % exc, file=sys.stderr)
        exit_code = 1
    finally:
        stop(exit_code)


if __name__ == "__main__":
    main()
